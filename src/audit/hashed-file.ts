import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { once } from "node:events";

export interface WrittenFile {
  sha256: string;
  bytes: number;
}

/** A file written as a stream, hashed on the way: no copy of its content is kept in memory. */
export function hashedFile(file: string) {
  const stream = createWriteStream(file, { flags: "wx" });
  const hash = createHash("sha256");
  let bytes = 0;
  let failure: Error | undefined;
  stream.on("error", (error) => (failure = error));
  return {
    async write(text: string): Promise<void> {
      if (failure) throw failure;
      const chunk = Buffer.from(text, "utf8");
      hash.update(chunk);
      bytes += chunk.length;
      if (!stream.write(chunk)) await once(stream, "drain");
    },
    async close(): Promise<WrittenFile> {
      stream.end();
      await once(stream, "finish");
      if (failure) throw failure;
      return { sha256: hash.digest("hex"), bytes };
    },
  };
}
