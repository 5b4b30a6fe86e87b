import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * A throwaway PKI made with the machine's `openssl`: a CA, a server certificate for 127.0.0.1 and
 * localhost, a client certificate, and a second CA that signed none of them. EC P-256 keys keep
 * it fast (well under a second).
 */
export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  readonly server: { cert: string; key: string };
  readonly client: { cert: string; key: string };
  /** A CA that signed nothing here: trusting only it must fail every handshake. */
  readonly otherCa: string;
  remove(): Promise<void>;
}

const run = promisify(execFile);
const openssl = (...args: string[]) => run(process.env.OPENSSL_BIN ?? "openssl", args);

export async function createTestPki(clientName = "plantgraph-ingest"): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-pki-"));
  const file = (name: string) => path.join(dir, name);
  const newKey = (name: string) => openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file(name));

  const selfSignedCa = async (name: string, subject: string) => {
    await newKey(`${name}.key`);
    await openssl("req", "-x509", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${subject}`, "-days", "2", "-out", file(`${name}.crt`),
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  };
  const signed = async (name: string, subject: string, extensions: string[]) => {
    await newKey(`${name}.key`);
    await openssl("req", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${subject}`, "-out", file(`${name}.csr`));
    await writeFile(file(`${name}.ext`), ["basicConstraints=CA:FALSE", ...extensions].join("\n") + "\n");
    await openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-set_serial", `0x${randomBytes(8).toString("hex")}`,
      "-days", "2", "-extfile", file(`${name}.ext`), "-out", file(`${name}.crt`));
  };

  try {
    await Promise.all([selfSignedCa("ca", "plantgraph test CA"), selfSignedCa("other-ca", "plantgraph other CA")]);
    await Promise.all([
      signed("server", "localhost", ["subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"]),
      signed("client", clientName, ["extendedKeyUsage=clientAuth"]),
    ]);
    // A broker started as root drops to its own user before it loads its key: let it read them.
    await chmod(dir, 0o755);
    await chmod(file("server.key"), 0o644);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    ca: file("ca.crt"),
    server: { cert: file("server.crt"), key: file("server.key") },
    client: { cert: file("client.crt"), key: file("client.key") },
    otherCa: file("other-ca.crt"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
