import { sql } from "drizzle-orm";
import {
  check,
  doublePrecision,
  integer,
  pgTable,
  serial,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

// ISA-95 equipment hierarchy: enterprise → site → area → line → machine → data point.

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

export const enterprises = pgTable("enterprise", {
  id: serial("id").primaryKey(),
  name: text("name").notNull().unique(),
  ...timestamps,
});

export const sites = pgTable(
  "site",
  {
    id: serial("id").primaryKey(),
    enterpriseId: integer("enterprise_id")
      .notNull()
      .references(() => enterprises.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    ...timestamps,
  },
  (t) => [unique("site_enterprise_name").on(t.enterpriseId, t.name)],
);

export const areas = pgTable(
  "area",
  {
    id: serial("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ...timestamps,
  },
  (t) => [unique("area_site_name").on(t.siteId, t.name)],
);

export const lines = pgTable(
  "line",
  {
    id: serial("id").primaryKey(),
    areaId: integer("area_id")
      .notNull()
      .references(() => areas.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ...timestamps,
  },
  (t) => [unique("line_area_name").on(t.areaId, t.name)],
);

export const machines = pgTable(
  "machine",
  {
    id: serial("id").primaryKey(),
    lineId: integer("line_id")
      .notNull()
      .references(() => lines.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    displayName: text("display_name"),
    /** enterprise/site/area/line/machine: the machine's place in the Unified Namespace. */
    path: text("path").notNull().unique(),
    ...timestamps,
  },
  (t) => [unique("machine_line_name").on(t.lineId, t.name)],
);

export const dataTypes = ["float", "integer", "boolean"] as const;
export type DataType = (typeof dataTypes)[number];

export const dataPoints = pgTable(
  "data_point",
  {
    id: serial("id").primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    unit: text("unit"),
    dataType: text("data_type", { enum: dataTypes }).notNull().default("float"),
    normalMin: doublePrecision("normal_min"),
    normalMax: doublePrecision("normal_max"),
    /** MQTT topic filter (wildcards allowed); default: the machine path plus the point name. */
    mqttTopic: text("mqtt_topic"),
    /** Field of a JSON object payload that carries this point; default: "value" or a bare number. */
    mqttField: text("mqtt_field"),
    /** Sparkplug B binding: the metric `sparkplugMetric` (default: the point name) of an edge node or its device. */
    sparkplugGroup: text("sparkplug_group"),
    sparkplugNode: text("sparkplug_node"),
    /** Null: a metric of the edge node itself (NBIRTH/NDATA). */
    sparkplugDevice: text("sparkplug_device"),
    sparkplugMetric: text("sparkplug_metric"),
    ...timestamps,
  },
  (t) => [
    unique("data_point_machine_name").on(t.machineId, t.name),
    check("data_point_data_type", sql`${t.dataType} in ('float', 'integer', 'boolean')`),
    check(
      "data_point_normal_range",
      sql`${t.normalMin} is null or ${t.normalMax} is null or ${t.normalMin} <= ${t.normalMax}`,
    ),
    check("data_point_sparkplug_node", sql`(${t.sparkplugGroup} is null) = (${t.sparkplugNode} is null)`),
  ],
);
