import { describe, expect, it } from "vitest";
import { formatPlantFileError, parsePlantFile, type PlantFileError, type PlantSpec } from "../../src/assets/plant-file.js";

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
                    },
                    { name: "labeler-1", dataPoints: [] },
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
    } satisfies PlantSpec);
  });

  it.each([
    ["sites omitted", doc("enterprise: acme"), { enterprise: "acme", sites: [] }],
    ["sites empty", doc("enterprise: acme", "sites: []"), { enterprise: "acme", sites: [] }],
    ["sites with no items", doc("enterprise: acme", "sites:"), { enterprise: "acme", sites: [] }],
    ["comments and a document marker", doc("# the plant", "---", "enterprise: acme # owner"), { enterprise: "acme", sites: [] }],
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
