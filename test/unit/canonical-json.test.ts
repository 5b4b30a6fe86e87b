import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/db/canonical-json.js";

/** The definition the audit hashes were first computed with: sorted copies, then JSON.stringify. */
function reference(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (typeof v !== "object" || v === null || v instanceof Date) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, canonical(x)]),
    );
  };
  return JSON.stringify(canonical(value));
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and writes what JSON.stringify writes", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: "ü\n\"" }], c: undefined } })).toBe('{"a":{"d":[3,{"y":"ü\\n\\"","z":null}]},"b":1}');
  });

  it("matches the original definition on 2,000 random values", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const keys = ["a", "B", "aa", "é", "_", "10", "2", "z y", ""];
    const make = (depth: number): unknown => {
      const pick = Math.floor(random() * (depth > 3 ? 6 : 9));
      switch (pick) {
        case 0: return null;
        case 1: return random() < 0.5;
        case 2: return [0, -0, 1.5, -3e-7, 1e21, Number.NaN, Infinity, 42][Math.floor(random() * 8)];
        case 3: return ["", "x", "ünï ✓", '"q"\\', "\u0001", "line\nbreak", "😀 ok", "lone \ud800", "\u007f\u2028"][Math.floor(random() * 9)];
        case 4: return undefined;
        case 5: return new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 1e9));
        case 6:
        case 7: return Object.fromEntries(keys.filter(() => random() < 0.4).map((k) => [k, make(depth + 1)]));
        default: return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      }
    };
    for (let i = 0; i < 2_000; i += 1) {
      const value = { root: make(0), other: make(0) };
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });
});
