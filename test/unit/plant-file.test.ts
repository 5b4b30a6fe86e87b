import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatPlantFileError, parsePlantFile, type PlantFileError, type PlantSpec } from "../../src/assets/plant-file.js";
import { methodAddress } from "../../src/actuation/actuation.rules.js";
import { machineProfiles, type ProfileName } from "../../src/demo/simulator.js";

/** Joins lines so that argument N is line N of the file: expected line numbers can be read off. */
const doc = (...lines: string[]) => lines.join("\n") + "\n";

function errorsOf(text: string): PlantFileError[] {
  const result = parsePlantFile(text);
  if (result.ok) throw new Error(`expected errors, got a plant: ${JSON.stringify(result.plant)}`);
  return result.errors;
}

function plantOf(text: string): PlantSpec {
  const result = parsePlantFile(text);
  if (!result.ok) throw new Error(`expected a plant, got errors: ${JSON.stringify(result.errors)}`);
  return result.plant;
}

const fullFile = doc(
  "enterprise: acme", //                                                   1
  "sites:",
  "  - name: berlin",
  "    timezone: Europe/Berlin",
  "    areas:", //                                                           5
  "      - name: packaging",
  "        lines:",
  "          - name: line-1",
  "            machines:",
  "              - name: sealer-1", //                                      10
  "                displayName: Sealer 1",
  "                dataPoints:",
  "                  - name: temperature",
  '                    unit: "°C"',
  "                    dataType: float", //                                 15
  "                    normalRange: { min: 20, max: 80 }",
  "                    mqtt:",
  "                      topic: acme/berlin/packaging/line-1/sealer-1/telemetry",
  "                      field: temp",
  "                  - name: running", //                                   20
  "                    dataType: boolean",
  "                  - name: count",
  "                    dataType: integer",
  "                    normalRange: { max: 100 }",
  "                    mqtt: { topic: acme/+/packaging/#, field: count }", // 25
  "                  - name: pressure",
  "                    mqtt: { field: p }",
  "              - name: labeler-1",
  "          - name: line-2",
  "            machines: []", //                                            30
  "      - name: storage",
  "  - name: lyon",
  "    areas:",
);

describe("parsePlantFile: valid files", () => {
  it("returns the exact spec with defaults applied and data points mapped to DataPointSpec", () => {
    expect(plantOf(fullFile)).toStrictEqual({
      enterprise: "acme",
      sites: [
        {
          name: "berlin",
          timezone: "Europe/Berlin",
          areas: [
            {
              name: "packaging",
              lines: [
                {
                  name: "line-1",
                  machines: [
                    {
                      name: "sealer-1",
                      displayName: "Sealer 1",
                      dataPoints: [
                        {
                          name: "temperature",
                          unit: "°C",
                          dataType: "float",
                          normalMin: 20,
                          normalMax: 80,
                          mqttTopic: "acme/berlin/packaging/line-1/sealer-1/telemetry",
                          mqttField: "temp",
                        },
                        { name: "running", dataType: "boolean" },
                        { name: "count", dataType: "integer", normalMax: 100, mqttTopic: "acme/+/packaging/#", mqttField: "count" },
                        { name: "pressure", dataType: "float", mqttField: "p" },
                      ],
                      rules: [],
                      methods: [],
                    },
                    { name: "labeler-1", dataPoints: [], rules: [], methods: [] },
                  ],
                },
                { name: "line-2", machines: [] },
              ],
            },
            { name: "storage", lines: [] },
          ],
        },
        { name: "lyon", timezone: "UTC", areas: [] },
      ],
      integrations: [],
      automations: [],
      opcuaEndpoints: [],
    } satisfies PlantSpec);
  });

  const empty = { enterprise: "acme", sites: [], integrations: [], automations: [], opcuaEndpoints: [] };
  it.each([
    ["sites omitted", doc("enterprise: acme"), empty],
    ["sites empty", doc("enterprise: acme", "sites: []"), empty],
    ["sites with no items", doc("enterprise: acme", "sites:"), empty],
    ["comments and a document marker", doc("# the plant", "---", "enterprise: acme # owner"), empty],
    ["empty workflow lists", doc("enterprise: acme", "integrations:", "automations: []"), empty],
  ])("accepts a minimal file: %s", (_title, text, expected) => {
    expect(plantOf(text)).toStrictEqual(expected);
  });

  it("accepts data points that share a field on different topics, or a topic with different fields", () => {
    const text = doc(
      "enterprise: acme",
      "sites:",
      "  - name: s",
      "    areas:",
      "      - name: a",
      "        lines:",
      "          - name: l",
      "            machines:",
      "              - name: m",
      "                dataPoints:",
      "                  - { name: a, mqtt: { topic: t/1, field: v } }",
      "                  - { name: b, mqtt: { topic: t/2, field: v } }",
      "                  - { name: c, mqtt: { topic: t/1, field: w } }",
      "                  - { name: d, mqtt: { topic: t/1 } }",
      "                  - { name: e, mqtt: { field: v } }",
      "                  - { name: f, mqtt: { field: v } }",
    );
    const points = plantOf(text).sites[0]?.areas[0]?.lines[0]?.machines[0]?.dataPoints ?? [];
    expect(points.map((p) => p.name)).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
});

/** One site > area > line > machine, with the given lines as the machine's data point list (from line 11). */
const machineWith = (...dataPointLines: string[]) =>
  doc(
    "enterprise: acme",
    "sites:",
    "  - name: berlin",
    "    areas:",
    "      - name: packaging", //        5
    "        lines:",
    "          - name: line-1",
    "            machines:",
    "              - name: sealer-1",
    "                dataPoints:", //   10
    ...dataPointLines,
  );
const point0 = "sites[0].areas[0].lines[0].machines[0].dataPoints[0]";
const point1 = "sites[0].areas[0].lines[0].machines[0].dataPoints[1]";

describe("parsePlantFile: one error each, at its line", () => {
  const cases: { title: string; text: string; error: Omit<PlantFileError, "column"> & { column?: number } }[] = [
    {
      title: "empty file",
      text: "",
      error: { line: 1, column: 1, path: "", message: expect.stringContaining("found an empty file") },
    },
    {
      title: "only comments",
      text: doc("# nothing yet", ""),
      error: { line: 1, column: 1, path: "", message: expect.stringContaining("found an empty file") },
    },
    {
      title: "a list instead of a mapping",
      text: doc("- enterprise: acme"),
      error: { line: 1, column: 1, path: "", message: expect.stringContaining("found a list") },
    },
    {
      title: "a scalar instead of a mapping",
      text: doc("acme"),
      error: { line: 1, column: 1, path: "", message: expect.stringContaining("found a single value") },
    },
    {
      title: "YAML syntax error",
      text: doc("enterprise: acme", "sites:", "  - name: berlin", "    areas: [packaging", "  - name: lyon"),
      error: { line: 5, path: "", message: expect.stringContaining("end with a ]") },
    },
    {
      title: "YAML duplicate key",
      text: doc("enterprise: acme", "sites: []", "enterprise: other"),
      error: { line: 3, column: 1, path: "", message: expect.stringContaining("unique") },
    },
    {
      title: "missing enterprise points at the top-level map",
      text: doc("# plant", "sites: []"),
      error: { line: 2, column: 1, path: "enterprise", message: 'missing required key "enterprise"' },
    },
    {
      title: "missing machine name points at the machine's map",
      text: doc(
        "enterprise: acme",
        "sites:",
        "  - name: berlin",
        "    areas:",
        "      - name: packaging",
        "        lines:",
        "          - name: line-1",
        "            machines:",
        "              - displayName: Sealer",
      ),
      error: { line: 9, column: 17, path: "sites[0].areas[0].lines[0].machines[0].name", message: 'missing required key "name"' },
    },
    {
      title: "unknown top-level key points at the key",
      text: doc("enterprise: acme", "sites: []", "owner: me"),
      error: { line: 3, column: 1, path: "owner", message: 'unknown key "owner"' },
    },
    {
      title: "unknown site key",
      text: doc("enterprise: acme", "sites:", "  - name: berlin", "    timeZone: Europe/Berlin"),
      error: { line: 4, column: 5, path: "sites[0].timeZone", message: 'unknown key "timeZone"' },
    },
    {
      title: "unknown key inside normalRange",
      text: machineWith("                  - name: t", "                    normalRange: { min: 1, maximum: 2 }"),
      error: { line: 12, column: 44, path: `${point0}.normalRange.maximum`, message: 'unknown key "maximum"' },
    },
    {
      title: "the flat DataPointSpec keys are not part of the file format",
      text: machineWith("                  - name: t", "                    normalMin: 1"),
      error: { line: 12, path: `${point0}.normalMin`, message: 'unknown key "normalMin"' },
    },
    {
      title: "enterprise name with a space",
      text: doc("enterprise: acme corp"),
      error: { line: 1, column: 13, path: "enterprise", message: expect.stringContaining("expected 1-63 letters") },
    },
    {
      title: "area name with '/'",
      text: doc("enterprise: acme", "sites:", "  - name: berlin", "    areas:", "      - name: pack/aging"),
      error: { line: 5, column: 15, path: "sites[0].areas[0].name", message: expect.stringContaining("expected 1-63 letters") },
    },
    {
      title: "data point name with an MQTT wildcard",
      text: machineWith("                  - name: temp+"),
      error: { line: 11, path: `${point0}.name`, message: expect.stringContaining("expected 1-63 letters") },
    },
    {
      title: "name that is a number",
      text: doc("enterprise: acme", "sites:", "  - name: 42"),
      error: { line: 3, column: 11, path: "sites[0].name", message: "expected string, received number" },
    },
    {
      title: "unknown time zone",
      text: doc("enterprise: acme", "sites:", "  - name: berlin", "    timezone: Europe/Atlantis"),
      error: { line: 4, column: 15, path: "sites[0].timezone", message: "expected an IANA time zone such as Europe/Berlin" },
    },
    {
      title: "sites is not a list",
      text: doc("enterprise: acme", "sites: berlin"),
      error: { line: 2, column: 8, path: "sites", message: "expected array, received string" },
    },
    {
      title: "unknown data type",
      text: machineWith("                  - name: t", "                    dataType: double"),
      error: { line: 12, column: 31, path: `${point0}.dataType`, message: expect.stringContaining('"float"|"integer"|"boolean"') },
    },
    {
      title: "normal range min above max",
      text: machineWith("                  - name: t", "                    normalRange:", "                      min: 80", "                      max: 20"),
      error: { line: 13, column: 28, path: `${point0}.normalRange.min`, message: "normal range minimum must not exceed its maximum" },
    },
    {
      title: "normal range bound that is not a number",
      text: machineWith("                  - name: t", "                    normalRange: { max: high }"),
      error: { line: 12, path: `${point0}.normalRange.max`, message: "expected number, received string" },
    },
    {
      title: "topic filter with '#' not last",
      text: machineWith("                  - name: t", "                    mqtt: { topic: a/#/b }"),
      error: { line: 12, column: 36, path: `${point0}.mqtt.topic`, message: expect.stringContaining("expected an MQTT topic filter") },
    },
    {
      title: "empty mqtt field",
      text: machineWith("                  - name: t", '                    mqtt: { field: "" }'),
      error: { line: 12, path: `${point0}.mqtt.field`, message: expect.stringContaining(">=1") },
    },
    {
      title: "empty list item",
      text: doc("enterprise: acme", "sites:", "  - name: berlin", "  -"),
      error: { line: 4, path: "sites[1]", message: "expected object, received null" },
    },
  ];

  it.each(cases)("$title", ({ text, error }) => {
    expect(errorsOf(text)).toEqual([expect.objectContaining(error)]);
  });
});

describe("parsePlantFile: duplicates", () => {
  const twoSites = doc("enterprise: acme", "sites:", "  - name: berlin", "  - name: lyon", "  - name: berlin");
  const twoAreas = doc("enterprise: acme", "sites:", "  - name: berlin", "    areas:", "      - name: packaging", "      - name: packaging");
  const twoLines = doc(
    "enterprise: acme",
    "sites:",
    "  - name: berlin",
    "    areas:",
    "      - name: packaging",
    "        lines:",
    "          - name: line-1",
    "            machines: []",
    "          - name: line-1",
  );
  const twoMachines = doc(
    "enterprise: acme",
    "sites:",
    "  - name: berlin",
    "    areas:",
    "      - name: packaging",
    "        lines:",
    "          - name: line-1",
    "            machines:",
    "              - name: sealer-1",
    "              - name: labeler-1",
    "              - displayName: Sealer again",
    "                name: sealer-1",
  );

  it.each([
    ["site", twoSites, { line: 5, column: 11, path: "sites[2].name", message: 'duplicate site name "berlin" (first at line 3)' }],
    ["area", twoAreas, { line: 6, column: 15, path: "sites[0].areas[1].name", message: 'duplicate area name "packaging" (first at line 5)' }],
    ["line", twoLines, { line: 9, column: 19, path: "sites[0].areas[0].lines[1].name", message: 'duplicate line name "line-1" (first at line 7)' }],
    [
      "machine",
      twoMachines,
      { line: 12, column: 23, path: "sites[0].areas[0].lines[0].machines[2].name", message: 'duplicate machine name "sealer-1" (first at line 9)' },
    ],
    [
      "data point",
      machineWith("                  - name: temperature", "                  - name: pressure", "                  - name: temperature"),
      { line: 13, column: 27, path: "sites[0].areas[0].lines[0].machines[0].dataPoints[2].name", message: 'duplicate data point name "temperature" (first at line 11)' },
    ],
  ])("duplicate %s name points at the duplicate", (_kind, text, expected) => {
    expect(errorsOf(text)).toEqual([expected]);
  });

  it("allows the same name under different parents", () => {
    const text = doc(
      "enterprise: acme",
      "sites:",
      "  - name: berlin",
      "    areas: [{ name: packaging, lines: [{ name: line-1 }] }]",
      "  - name: lyon",
      "    areas: [{ name: packaging, lines: [{ name: line-1 }] }]",
    );
    expect(plantOf(text).sites.map((s) => s.areas[0]?.lines[0]?.name)).toEqual(["line-1", "line-1"]);
  });

  it.each([
    [
      "topic and field",
      machineWith(
        "                  - name: a",
        "                    mqtt: { topic: acme/s/telemetry, field: temp }",
        "                  - name: b",
        "                    mqtt: { topic: acme/s/telemetry, field: temp }",
      ),
      { line: 14, column: 27, path: `${point1}.mqtt`, message: 'duplicate MQTT binding: topic "acme/s/telemetry" and field "temp" (first at line 12)' },
    ],
    [
      "topic without field",
      machineWith(
        "                  - name: a",
        "                    mqtt:",
        "                      topic: acme/s/a",
        "                  - name: b",
        "                    mqtt:",
        "                      topic: acme/s/a",
      ),
      { line: 16, column: 23, path: `${point1}.mqtt`, message: 'duplicate MQTT binding: topic "acme/s/a" (first at line 13)' },
    ],
  ])("two data points bound to the same %s", (_title, text, expected) => {
    expect(errorsOf(text)).toEqual([expected]);
  });
});

describe("parsePlantFile: several errors", () => {
  it("reports every error together, sorted by line", () => {
    const text = doc(
      "enterprise: acme",
      "colour: blue", //                          2: unknown key
      "sites:",
      "  - name: berlin",
      "    timezone: Mars/Olympus", //            5: bad time zone
      "    areas:",
      "      - name: pack aging", //              7: bad name
      "        lines:",
      "          - name: line-1",
      "            machines:", //                10
      "              - name: sealer-1",
      "                dataPoints:",
      "                  - name: t",
      "                    normalRange: { min: 9, max: 1 }", // 14: min > max
      "                    mqtt: { topic: a/#/b }", //          15: bad topic
      "                  - name: t", //                          16: duplicate
      "  - name: berlin", //                                     17: duplicate
    );
    expect(errorsOf(text).map((e) => [e.line, e.path])).toEqual([
      [2, "colour"],
      [5, "sites[0].timezone"],
      [7, "sites[0].areas[0].name"],
      [14, `${point0}.normalRange.min`],
      [15, `${point0}.mqtt.topic`],
      [16, `${point1}.name`],
      [17, "sites[1].name"],
    ]);
  });

  it("reports a bad shift calendar and a bad machine state config at their lines", () => {
    const errors = errorsOf(
      doc(
        "enterprise: acme", //                                                1
        "sites:",
        "  - name: berlin",
        "    calendar:",
        "      shifts: [{ name: early, start: '6:00', end: '14:00' }]", //    5
        "    areas:",
        "      - name: hall",
        "        lines:",
        "          - name: line-1",
        "            machines:", //                                           10
        "              - name: saw",
        "                state: { sources: [{ point: speed, runningAbove: 0, map: {} }], idealCycleSeconds: -1 }",
      ),
    );
    expect(errors.map((e) => [e.line, e.path])).toEqual([
      [5, "sites[0].calendar.shifts[0].start"],
      [12, "sites[0].areas[0].lines[0].machines[0].state.sources[0]"],
      [12, "sites[0].areas[0].lines[0].machines[0].state.idealCycleSeconds"],
    ]);
    expect(errors[0]!.message).toBe('expected a time of day "HH:MM"');
  });

  it("reports every unknown key of one map", () => {
    const errors = errorsOf(doc("enterprise: acme", "owner: me", "sites: []", "version: 2"));
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'unknown key "owner"'],
      [4, 'unknown key "version"'],
    ]);
  });

  it("reports syntax errors only, without validating a broken document", () => {
    const errors = errorsOf(doc("enterprise: acme corp", "sites:", "  - name: berlin", "   bad: [", "colour: blue"));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.path === "")).toBe(true);
    expect(errors.map((e) => e.message)).not.toContain('unknown key "colour"');
  });
});

describe("formatPlantFileError", () => {
  it.each([
    [
      { line: 12, column: 9, path: "sites[0].name", message: "expected a name" },
      "plant.yaml:12:9 sites[0].name: expected a name",
    ],
    [{ line: 1, column: 1, path: "", message: "the file is empty" }, "plant.yaml:1:1 the file is empty"],
  ])("formats %j", (error, expected) => {
    expect(formatPlantFileError("plant.yaml", error)).toBe(expected);
  });

  it("formats a parsed error as file:line:column path: message", () => {
    const [error] = errorsOf(doc("enterprise: acme", "sites:", "  - name: lyon/2"));
    expect(error && formatPlantFileError("plants/acme.yaml", error)).toMatch(/^plants\/acme\.yaml:3:11 sites\[0\]\.name: expected 1-63 letters/);
  });
});

/**
 * One machine with the data points temperature and speed (lines 1-13), its rules from line 14 on
 * (one per argument, "\n" between its keys), then whatever `after` adds at the top level.
 */
const machineWithRules = (rules: string[], after: string[] = []) =>
  machineWith(
    "                  - name: temperature",
    "                  - name: speed",
    "                rules:",
    ...rules.flatMap((r) => r.split("\n").map((key, i) => `                  ${i === 0 ? "- " : "  "}${key}`)), // 14…
    ...after,
  );
const rule0 = "sites[0].areas[0].lines[0].machines[0].rules[0]";
const rule1 = "sites[0].areas[0].lines[0].machines[0].rules[1]";

describe("parsePlantFile: rules", () => {
  it("reads flat parameters into params, with the rule schema's defaults and the rule defaults", () => {
    const plant = plantOf(
      machineWithRules([
        "{name: overheating, point: temperature, kind: threshold, condition: above, limit: 80, hysteresis: 2, forSeconds: 5}",
        "{name: silent, point: speed, severity: critical, enabled: false, kind: stale, afterSeconds: 60}",
      ]),
    );
    expect(plant.sites[0]?.areas[0]?.lines[0]?.machines[0]?.rules).toStrictEqual([
      {
        name: "overheating",
        point: "temperature",
        severity: "warning",
        enabled: true,
        params: { kind: "threshold", condition: "above", limit: 80, hysteresis: 2, forSeconds: 5, clearForSeconds: 0 },
      },
      { name: "silent", point: "speed", severity: "critical", enabled: false, params: { kind: "stale", afterSeconds: 60 } },
    ]);
  });

  it("allows the same rule name on different machines", () => {
    const machine = (name: string, limit: number) =>
      `{ name: ${name}, dataPoints: [{ name: t }], rules: [{ name: hot, point: t, kind: threshold, condition: above, limit: ${limit} }] }`;
    const text = doc("enterprise: acme", `sites: [{ name: s, areas: [{ name: a, lines: [{ name: l, machines: [${machine("m1", 1)}, ${machine("m2", 2)}] }] }] }]`);
    const machines = plantOf(text).sites[0]?.areas[0]?.lines[0]?.machines ?? [];
    expect(machines.map((m) => m.rules?.map((r) => [r.name, r.params.kind === "threshold" && r.params.limit]))).toEqual([[["hot", 1]], [["hot", 2]]]);
  });

  // [title, the rule (keys split by "\n"), its one error]
  const cases: [string, string, Omit<PlantFileError, "column"> & { column?: number }][] = [
    ["a misspelt parameter", "{name: hot, point: temperature, kind: threshold, condition: above, limit: 80, forSecond: 5}", { line: 14, path: `${rule0}.forSecond`, message: 'unknown key "forSecond"' }],
    ["a parameter of another kind", "{name: hot, point: temperature, kind: stale, afterSeconds: 60, limit: 3}", { line: 14, path: `${rule0}.limit`, message: 'unknown key "limit"' }],
    ["threshold 'above' without a limit", "name: hot\npoint: temperature\nkind: threshold\ncondition: above", { line: 14, column: 21, path: `${rule0}.limit`, message: "threshold 'above' needs a limit" }],
    ["a limit that is not a number", "name: hot\npoint: temperature\nkind: threshold\ncondition: above\nlimit: hot", { line: 18, column: 28, path: `${rule0}.limit`, message: "threshold limit must be a number" }],
    ["an unknown kind", "name: hot\npoint: temperature\nkind: thresold", { line: 16, column: 27, path: `${rule0}.kind`, message: expect.stringContaining("rule kind must be one of threshold, deviation") }],
    ["no kind", "{name: hot, point: temperature, limit: 80}", { line: 14, path: `${rule0}.kind`, message: 'missing required key "kind"' }],
    ["a counter batch of 0 parts", "{name: batch, point: speed, kind: counter, batchSize: 0}", { line: 14, path: `${rule0}.batchSize`, message: "counter batchSize must be at least 1 part" }],
    ["an unknown severity", "name: hot\npoint: temperature\nseverity: fatal\nkind: stale\nafterSeconds: 5", { line: 16, column: 31, path: `${rule0}.severity`, message: expect.stringContaining('"info"|"warning"|"critical"') }],
    ["a rule name with a space", "{name: too hot, point: temperature, kind: stale, afterSeconds: 5}", { line: 14, path: `${rule0}.name`, message: expect.stringContaining("expected 1-63 letters") }],
    ["no point", "{name: hot, kind: stale, afterSeconds: 5}", { line: 14, path: `${rule0}.point`, message: 'missing required key "point"' }],
    ["a point the machine does not declare", "name: hot\npoint: pressure\nkind: stale\nafterSeconds: 5", { line: 15, column: 28, path: `${rule0}.point`, message: 'machine "sealer-1" declares no data point "pressure"' }],
    ["a rule that is not a mapping", "hot", { line: 14, path: rule0, message: "expected a rule: name, point, kind and its parameters" }],
  ];

  it.each(cases)("%s: one error at its line", (_title, rule, error) => {
    expect(errorsOf(machineWithRules([rule]))).toEqual([expect.objectContaining(error)]);
  });

  it("a duplicate rule name within a machine points at the duplicate", () => {
    const text = machineWithRules([
      "{name: hot, point: temperature, kind: stale, afterSeconds: 5}",
      "{name: hot, point: speed, kind: stale, afterSeconds: 5}",
    ]);
    expect(errorsOf(text)).toEqual([
      { line: 15, column: 28, path: `${rule1}.name`, message: 'duplicate rule name "hot" (first at line 14)' },
    ]);
  });

  it("reports a bad rule name, a bad parameter and an unknown point of other rules together", () => {
    const text = machineWithRules([
      "{name: too hot, point: temperature, kind: threshold, condition: above, limit: 80, hysteresis: -1}",
      "{name: ok, point: nowhere, kind: stale, afterSeconds: 5}",
    ]);
    expect(errorsOf(text).map((e) => [e.line, e.path])).toEqual([
      [14, `${rule0}.name`],
      [14, `${rule0}.hysteresis`],
      [15, `${rule1}.point`],
    ]);
  });
});

const board = ["integrations:", "  - { name: board, kind: builtin }"];

describe("parsePlantFile: integrations", () => {
  it("reads name, kind, site and config, defaulting to every site and an empty config", () => {
    const text = machineWithRules([], [
      "integrations:",
      "  - { name: board, kind: builtin }",
      "  - name: jira",
      "    kind: jira",
      "    site: acme/berlin",
      "    config: { baseUrl: https://jira.example.com, projectKey: OPS }",
    ]);
    expect(plantOf(text).integrations).toStrictEqual([
      { name: "board", kind: "builtin", site: null, config: {} },
      { name: "jira", kind: "jira", site: "acme/berlin", config: { baseUrl: "https://jira.example.com", projectKey: "OPS" } },
    ]);
  });

  it.each([
    [
      "secrets are refused, pointing to GraphQL",
      ["integrations:", "  - name: jira", "    kind: jira", "    secrets: { apiToken: abc }"],
      { line: 17, path: "integrations[0].secrets", message: expect.stringMatching(/^secrets never go in a plant file: .*updateIntegration/) },
    ],
    [
      "an unknown connector kind",
      ["integrations:", "  - name: tracker", "    kind: trello"],
      { line: 16, column: 11, path: "integrations[0].kind", message: expect.stringMatching(/^expected a connector kind: builtin, jira, meistertask/) },
    ],
    [
      "a config that is not an object",
      ["integrations:", "  - { name: board, kind: builtin, config: [1, 2] }"],
      { line: 15, path: "integrations[0].config", message: "expected an object" },
    ],
    [
      "a site of another enterprise",
      ["integrations:", "  - { name: board, kind: builtin, site: other/berlin }"],
      { line: 15, path: "integrations[0].site", message: 'expected a site of this file: "acme/<site>" with a site listed under sites' },
    ],
    [
      "a site the file does not list",
      ["integrations:", "  - { name: board, kind: builtin, site: acme/lyon }"],
      { line: 15, path: "integrations[0].site", message: expect.stringContaining("a site listed under sites") },
    ],
    [
      "a duplicate name",
      ["integrations:", "  - { name: board, kind: builtin }", "  - { name: board, kind: builtin }"],
      { line: 16, path: "integrations[1].name", message: 'duplicate integration name "board" (first at line 15)' },
    ],
  ])("%s", (_title, after, error) => {
    expect(errorsOf(machineWithRules([], after))).toEqual([expect.objectContaining(error)]);
  });
});

describe("parsePlantFile: OPC UA", () => {
  const point = (binding: string) => machineWith("                  - name: temperature", `                    opcua: ${binding}`); // line 12
  const point0 = "sites[0].areas[0].lines[0].machines[0].dataPoints[0]";

  it("reads endpoints with the secure defaults and bindings with theirs", () => {
    const plant = plantOf(
      machineWithRules([], [
        "opcuaEndpoints:",
        "  - { name: press-plc, url: opc.tcp://10.0.0.5:4840, identity: username, username: hub }",
        "  - { name: open-plc, url: opc.tcp://10.0.0.6:4840, securityMode: None }",
      ]),
    );
    expect(plant.opcuaEndpoints).toStrictEqual([
      { name: "press-plc", site: null, url: "opc.tcp://10.0.0.5:4840", securityMode: "SignAndEncrypt", securityPolicy: "Basic256Sha256", identity: "username", username: "hub", publishingIntervalMs: 1000, maxItemsPerSubscription: 1000, enabled: true },
      { name: "open-plc", site: null, url: "opc.tcp://10.0.0.6:4840", securityMode: "None", securityPolicy: "None", identity: "anonymous", username: null, publishingIntervalMs: 1000, maxItemsPerSubscription: 1000, enabled: true },
    ]);
    const bound = plantOf(point('{ endpoint: press-plc, nodeId: "nsu=urn:acme;s=Press.Temp", queueSize: 5, deadband: { type: percent, value: 2 } }'));
    expect(bound.sites[0]!.areas[0]!.lines[0]!.machines[0]!.dataPoints[0]!.opcua).toStrictEqual({
      endpoint: "press-plc",
      nodeId: "nsu=urn:acme;s=Press.Temp",
      samplingIntervalMs: 1000,
      queueSize: 5,
      deadband: { type: "percent", value: 2 },
    });
  });

  it.each([
    ["a binding with neither nodeId nor browsePath", "{ endpoint: plc }", `${point0}.opcua.nodeId`, "expected either nodeId or browsePath"],
    ["a malformed NodeId", '{ endpoint: plc, nodeId: "Press.Temp" }', `${point0}.opcua.nodeId`, expect.stringMatching(/^expected a NodeId/)],
    ["a percent deadband above 100", "{ endpoint: plc, nodeId: i=2258, deadband: { type: percent, value: 150 } }", `${point0}.opcua.deadband.value`, expect.stringMatching(/between 0 and 100/)],
  ])("refuses %s", (_title, binding, path, message) => {
    expect(errorsOf(point(binding))).toEqual([expect.objectContaining({ line: 12, path, message })]);
  });

  it.each([
    ["secrets, pointing to GraphQL", "  - { name: plc, url: opc.tcp://plc:4840, secrets: { password: x } }", "opcuaEndpoints[0].secrets", expect.stringMatching(/^secrets never go in a plant file: .*updateOpcuaEndpoint/)],
    ["a URL that is not opc.tcp", "  - { name: plc, url: http://plc:4840 }", "opcuaEndpoints[0].url", expect.stringMatching(/^expected an OPC UA URL/)],
    ["a mode and policy that contradict", "  - { name: plc, url: opc.tcp://plc:4840, securityMode: None, securityPolicy: Basic256Sha256 }", "opcuaEndpoints[0].securityPolicy", expect.stringMatching(/mode None goes with policy None/)],
    ["a deprecated policy", "  - { name: plc, url: opc.tcp://plc:4840, securityPolicy: Basic128Rsa15 }", "opcuaEndpoints[0].securityPolicy", expect.any(String)],
    ["a username identity without a user name", "  - { name: plc, url: opc.tcp://plc:4840, identity: username }", "opcuaEndpoints[0].username", expect.stringMatching(/user name/)],
  ])("refuses an endpoint with %s", (_title, line, path, message) => {
    expect(errorsOf(machineWithRules([], ["opcuaEndpoints:", line]))).toEqual([expect.objectContaining({ line: 15, path, message })]);
  });
});

describe("parsePlantFile: automations", () => {
  it("applies the automation schema's defaults", () => {
    const text = machineWithRules([], [
      ...board,
      "automations:",
      "  - name: batch done",
      "    trigger: batch.completed",
      "    actions:",
      '      - { type: create_task, key: qc, integration: board, title: "QC {{event.detail.batchNumber}}" }',
    ]);
    expect(plantOf(text).automations).toStrictEqual([
      {
        name: "batch done",
        trigger: "batch.completed",
        conditions: {},
        actions: [{ type: "create_task", key: "qc", integration: "board", title: "QC {{event.detail.batchNumber}}", description: "{{event.message}}", labels: [] }],
        cooldownSeconds: 0,
        enabled: true,
      },
    ]);
  });

  it("accepts an action naming an integration the file does not declare (it may exist in the database)", () => {
    const text = machineWithRules([], ["automations:", "  - { name: a, trigger: alarm.raised, actions: [{ type: close_task, key: c, integration: jira }] }"]);
    expect(plantOf(text).automations?.[0]?.actions[0]).toMatchObject({ integration: "jira" });
  });

  const automation = (...lines: string[]) => machineWithRules([], [...board, "automations:", "  - name: a", ...lines]);
  it.each([
    [
      "close_task on a trigger without an alarm",
      automation("    trigger: batch.completed", "    actions:", "      - { type: close_task, key: c, integration: board }"),
      { line: 20, path: "automations[0].actions[0].type", message: "close_task needs an alarm trigger (its tasks are the alarm's)" },
    ],
    [
      "an unknown action type",
      automation("    trigger: alarm.raised", "    actions:", "      - { type: send_fax, key: c, integration: board }"),
      { line: 20, path: "automations[0].actions[0].type", message: "Invalid discriminator value. Expected 'create_task' | 'notify' | 'close_task' | 'comment_task' | 'actuate' | 'next_lot'" },
    ],
    [
      "a create_task without a title",
      automation("    trigger: alarm.raised", "    actions:", "      - { type: create_task, key: t, integration: board }"),
      { line: 20, path: "automations[0].actions[0].title", message: 'missing required key "title"' },
    ],
    [
      "a duplicate action key",
      automation(
        "    trigger: alarm.raised",
        "    actions:",
        "      - { type: create_task, key: t, integration: board, title: x }",
        "      - { type: create_task, key: t, integration: board, title: y }",
      ),
      { line: 21, path: "automations[0].actions[1].key", message: 'duplicate action key "t"' },
    ],
    [
      "no actions",
      automation("    trigger: alarm.raised", "    actions: []"),
      { line: 19, path: "automations[0].actions", message: "expected at least one action" },
    ],
    [
      "an unknown trigger",
      automation("    trigger: alarm.fired", "    actions: [{ type: close_task, key: c, integration: board }]"),
      { line: 18, path: "automations[0].trigger", message: expect.stringContaining('"alarm.raised"') },
    ],
    [
      "a machine condition that is not a path",
      automation(
        "    trigger: alarm.raised",
        "    conditions: { machines: [sealer-1] }",
        "    actions: [{ type: close_task, key: c, integration: board }]",
      ),
      { line: 19, path: "automations[0].conditions.machines[0]", message: expect.stringContaining("expected a path like") },
    ],
    [
      "a duplicate automation name",
      machineWithRules([], [
        ...board,
        "automations:",
        "  - { name: a, trigger: alarm.raised, actions: [{ type: close_task, key: c, integration: board }] }",
        "  - { name: a, trigger: alarm.cleared, actions: [{ type: close_task, key: c, integration: board }] }",
      ]),
      { line: 18, path: "automations[1].name", message: 'duplicate automation name "a" (first at line 17)' },
    ],
  ])("%s", (_title, text, error) => {
    expect(errorsOf(text)).toEqual([expect.objectContaining(error)]);
  });

  it("errorAt places an error found while applying at its line in the file", () => {
    const result = parsePlantFile(
      machineWithRules([], ["automations:", "  - name: a", "    trigger: alarm.raised", "    actions:", "      - { type: close_task, key: c, integration: jira }"]),
    );
    if (!result.ok) throw new Error("expected a plant");
    expect(result.errorAt(["automations", 0, "actions", 0, "integration"], "no integration")).toEqual({
      line: 18,
      column: 50,
      path: "automations[0].actions[0].integration",
      message: "no integration",
    });
  });
});

describe("the demo plant", () => {
  const result = parsePlantFile(readFileSync(new URL("../../src/demo/demo-plant.yaml", import.meta.url), "utf8"));
  const plant = result.ok ? result.plant : undefined;
  const machines = plant?.sites.flatMap((s) => s.areas.flatMap((a) => a.lines.flatMap((l) => l.machines))) ?? [];
  const profileOf = (machine: string) => machineProfiles[machine.replace(/-\d+$/, "") as ProfileName];

  it("parses without errors", () => {
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it("gives every machine the overheating, bearing-wear, at-capacity and batch rules, and one point a stale rule", () => {
    expect(machines).toHaveLength(7);
    for (const machine of machines) {
      expect(machine.rules?.map((r) => r.name)).toEqual(expect.arrayContaining(["overheating", "bearing-wear", "at-capacity", "batch"]));
    }
    expect(machines.flatMap((m) => m.rules ?? []).filter((r) => r.params.kind === "stale")).toEqual([
      expect.objectContaining({ point: "temperature", params: { kind: "stale", afterSeconds: 60 } }),
    ]);
  });

  it("sets at-capacity where the simulated speed gets now and then: 3 to 4 noise deviations above nominal", () => {
    for (const machine of machines) {
      const rule = machine.rules?.find((r) => r.name === "at-capacity");
      const { nominalSpeed, speedNoise } = profileOf(machine.name);
      const limit = rule?.params.kind === "threshold" ? rule.params.limit ?? NaN : NaN;
      expect((limit - nominalSpeed) / speedNoise, machine.name).toBeGreaterThan(3);
      expect((limit - nominalSpeed) / speedNoise, machine.name).toBeLessThan(4);
    }
  });

  it("sets overheating above the nominal temperature plus drift but below what a worn bearing reaches", () => {
    for (const machine of machines) {
      const rule = machine.rules?.find((r) => r.name === "overheating");
      const { nominalTemperature, wearHeating } = profileOf(machine.name);
      const limit = rule?.params.kind === "threshold" ? rule.params.limit ?? NaN : NaN;
      expect(limit, machine.name).toBeGreaterThan(nominalTemperature + 3 * 1.5);
      expect(limit, machine.name).toBeLessThan(nominalTemperature + wearHeating);
    }
  });

  it("seeds the board and automations that name only it, so it applies to an empty database", () => {
    expect(plant?.integrations).toEqual([{ name: "board", kind: "builtin", site: null, config: {} }]);
    expect(plant?.automations?.map((a) => [a.name, a.trigger, a.actions.map((x) => `${x.type}@${"integration" in x ? x.integration : "-"}`)])).toEqual([
      ["batch quality check", "batch.completed", ["create_task@board"]],
      ["order quality check", "order.completed", ["create_task@board"]],
      ["order at risk", "order.at_risk", ["create_task@board"]],
      ["maintenance ticket", "alarm.raised", ["create_task@board"]],
      ["maintenance ticket closed", "alarm.cleared", ["close_task@board"]],
      ["line at capacity", "alarm.raised", ["create_task@board"]],
    ]);
    expect(plant?.automations?.find((a) => a.name === "line at capacity")?.conditions.rules).toEqual(["at-capacity"]);
  });
});

describe("parsePlantFile: retention", () => {
  const withRetention = (site: string, point: string) =>
    doc(
      "enterprise: acme", //                                 1
      "sites:",
      "  - name: berlin",
      `    retention: ${site}`,
      "    areas:", //                                         5
      "      - name: packaging",
      "        lines:",
      "          - name: line-1",
      "            machines:",
      "              - name: sealer-1", //                    10
      "                dataPoints:",
      "                  - name: temperature",
      `                    retention: ${point}`,
    );

  it("reads a site's and a data point's retention, in days per resolution", () => {
    const plant = plantOf(withRetention("{ rawDays: 14, minuteDays: 90, hourDays: 730 }", "{ rawDays: 60 }"));
    expect(plant.sites[0]!.retention).toEqual({ rawDays: 14, minuteDays: 90, hourDays: 730 });
    expect(plant.sites[0]!.areas[0]!.lines[0]!.machines[0]!.dataPoints[0]).toEqual({ name: "temperature", dataType: "float", retention: { rawDays: 60 } });
  });

  it("rejects days that are not whole and positive, and unknown resolutions, at their lines", () => {
    expect(errorsOf(withRetention("{ rawDays: 0 }", "{ hourDays: 1.5, secondDays: 1 }"))).toEqual([
      { line: 4, column: expect.any(Number), path: "sites[0].retention.rawDays", message: "expected at least 1 day" },
      { line: 13, column: expect.any(Number), path: "sites[0].areas[0].lines[0].machines[0].dataPoints[0].retention.hourDays", message: "expected whole days" },
      { line: 13, column: expect.any(Number), path: "sites[0].areas[0].lines[0].machines[0].dataPoints[0].retention.secondDays", message: 'unknown key "secondDays"' },
    ]);
  });
});

describe("parsePlantFile: Sparkplug bindings and actuation", () => {
  const pointFile = (...point: string[]) => machineWith(...point.map((line) => `                  ${line}`));
  /** The machine of `machineWith` with the given lines as its method list (from line 11). */
  const withMethods = (...lines: string[]) => machineWith(...lines).replace("dataPoints:", "methods:");
  const firstPoint = (plant: PlantSpec) => plant.sites[0]?.areas[0]?.lines[0]?.machines[0]?.dataPoints[0];

  it("reads a Sparkplug binding and actuation limits, with their defaults", () => {
    const plant = plantOf(
      pointFile(
        "- name: speed-setpoint",
        "  sparkplug: { group: plant-1, node: edge-7, device: plc, metric: Setpoints/Speed }",
        "  actuation: { transport: sparkplug, min: 0, max: 200, maxStep: 20, minIntervalSeconds: 5, critical: true }",
      ),
    );
    expect(firstPoint(plant)).toStrictEqual({
      name: "speed-setpoint",
      dataType: "float",
      sparkplugGroup: "plant-1",
      sparkplugNode: "edge-7",
      sparkplugDevice: "plc",
      sparkplugMetric: "Setpoints/Speed",
      actuation: { transport: "sparkplug", min: 0, max: 200, maxStep: 20, minIntervalSeconds: 5, critical: true, allowAutomation: false, tolerance: 0 },
    });
  });

  it("reads a machine's methods, with their defaults; a duplicate method name is refused", () => {
    const text = withMethods(
      "                  - { name: reset, transport: mqtt, topic: acme/cmd/reset, minIntervalSeconds: 60 }",
      "                  - { name: start, transport: sparkplug, sparkplug: { group: g, node: n, metric: Commands/Start }, critical: true }",
    );
    expect(plantOf(text).sites[0]?.areas[0]?.lines[0]?.machines[0]?.methods).toStrictEqual([
      { name: "reset", transport: "mqtt", topic: "acme/cmd/reset", minIntervalSeconds: 60, critical: false, allowAutomation: false },
      { name: "start", transport: "sparkplug", sparkplug: { group: "g", node: "n", metric: "Commands/Start" }, critical: true, allowAutomation: false },
    ]);
    const [duplicate] = errorsOf(`${text}                  - { name: reset, transport: mqtt, topic: acme/cmd/other }\n`);
    expect(duplicate).toMatchObject({ line: 13, message: 'duplicate method name "reset" (first at line 11)' });
  });

  it.each([
    ["an MQTT method without a topic", "{ name: m, transport: mqtt }", "methods[0].topic"],
    ["a Sparkplug method with a topic", "{ name: m, transport: sparkplug, topic: a/b, sparkplug: { group: g, node: n, metric: x } }", "methods[0].topic"],
    ["an OPC UA method without its methodId", "{ name: m, transport: opcua, endpoint: plc, objectId: 'ns=2;s=Press' }", "methods[0].methodId"],
    ["an OPC UA method with a malformed objectId", "{ name: m, transport: opcua, endpoint: plc, objectId: Press, methodId: 'ns=2;s=Press/Reset' }", "methods[0].objectId"],
    ["an MQTT method with an endpoint", "{ name: m, transport: mqtt, topic: a/b, endpoint: plc }", "methods[0].endpoint"],
  ])("refuses %s", (_title, method, path) => {
    const [error] = errorsOf(withMethods(`                  - ${method}`));
    expect(error).toMatchObject({ line: 11, path: `sites[0].areas[0].lines[0].machines[0].${path}` });
  });

  it("reads OPC UA actuation through the point's binding, and an OPC UA method by endpoint, objectId and methodId", () => {
    const point = plantOf(pointFile("- name: speed-setpoint", "  opcua: { endpoint: plc, nodeId: 'nsu=urn:acme;s=Press/SpeedSetpoint' }", "  actuation: { transport: opcua, max: 30, tolerance: 0.1 }"));
    expect(firstPoint(point)?.actuation).toStrictEqual({ transport: "opcua", max: 30, critical: false, allowAutomation: false, tolerance: 0.1 });
    const text = withMethods("                  - { name: reset, transport: opcua, endpoint: plc, objectId: 'nsu=urn:acme;s=Press', methodId: 'nsu=urn:acme;s=Press/ResetCounter' }");
    const [method] = plantOf(text).sites[0]?.areas[0]?.lines[0]?.machines[0]?.methods ?? [];
    expect(method).toStrictEqual({ name: "reset", transport: "opcua", endpoint: "plc", objectId: "nsu=urn:acme;s=Press", methodId: "nsu=urn:acme;s=Press/ResetCounter", critical: false, allowAutomation: false });
    expect(methodAddress(method!)).toStrictEqual({ endpoint: "plc", objectId: "nsu=urn:acme;s=Press", methodId: "nsu=urn:acme;s=Press/ResetCounter" });
  });

  it.each([
    ["a group without its node", ["- name: p", "  sparkplug: { group: g }"], 12, "sparkplug.node"],
    ["a '/' in a node id", ["- name: p", "  sparkplug: { group: g, node: a/b }"], 12, "sparkplug.node"],
    ["Sparkplug actuation without a Sparkplug binding", ["- name: p", "  actuation: { transport: sparkplug }"], 12, "actuation.transport"],
    ["MQTT actuation without a command topic", ["- name: p", "  actuation: { transport: mqtt, max: 3 }"], 12, "actuation.topic"],
    ["a wildcard command topic", ["- name: p", "  actuation: { transport: mqtt, topic: a/+/set }"], 12, "actuation.topic"],
    ["min above max", ["- name: p", "  actuation: { transport: mqtt, topic: a/set, min: 5, max: 1 }"], 12, "actuation.min"],
    ["OPC UA actuation without an OPC UA binding", ["- name: p", "  actuation: { transport: opcua, max: 3 }"], 12, "actuation.transport"],
    ["OPC UA actuation with a command topic", ["- name: p", "  opcua: { endpoint: plc, nodeId: 'ns=2;s=x' }", "  actuation: { transport: opcua, topic: a/set }"], 13, "actuation.topic"],
  ])("refuses %s", (_title, point, line, path) => {
    const [error, ...rest] = errorsOf(pointFile(...point));
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ line, path: `${point0}.${path}` });
  });
});
