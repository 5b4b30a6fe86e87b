import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { dataTypes, type DataType } from "../../../schema/db/assets.js";
import type { DataPointRow } from "../../assets/asset.queries.js";
import { qualities, type Quality } from "../../telemetry/sample.js";
import { upperEnum } from "../enum.js";
import { globalId, Node } from "../relay/node.type.js";


export const DataTypeEnum = upperEnum(dataTypes);
registerEnumType(DataTypeEnum, { name: "DataType" });
export const QualityEnum = upperEnum(qualities);
registerEnumType(QualityEnum, { name: "Quality", description: "GOOD, UNCERTAIN (kept, flagged) or BAD." });

@ObjectType("NormalRange")
export class NormalRange {
  @Field(() => Float, { nullable: true })
  min?: number | null;

  @Field(() => Float, { nullable: true })
  max?: number | null;
}

@ObjectType("MqttBinding", { description: "Where the hub reads this data point from." })
export class MqttBinding {
  @Field(() => String, { description: "MQTT topic filter; + and # wildcards allowed." })
  topic!: string;

  @Field(() => String, { nullable: true, description: "Field of a JSON object payload; absent: `value` or a bare number." })
  field?: string | null;
}

@ObjectType("SparkplugBinding", { description: "The Sparkplug B metric this data point is read from." })
export class SparkplugBinding {
  @Field(() => String)
  group!: string;

  @Field(() => String)
  node!: string;

  @Field(() => String, { nullable: true, description: "Absent: a metric of the edge node itself." })
  device?: string | null;

  @Field(() => String)
  metric!: string;
}

@ObjectType("Reading")
export class Reading {
  @Field(() => Float, { description: "Booleans read as 1 and 0." })
  value!: number;

  @Field(() => DateTimeResolver, { description: "Source timestamp, or the receive time when the source sent none." })
  ts!: Date;

  @Field(() => QualityEnum)
  quality!: Quality;
}

@ObjectType("SeriesPoint", { description: "A raw reading, or a time bucket (value = average) when a bucket was asked for." })
export class SeriesPoint extends Reading {
  @Field(() => Float)
  min!: number;

  @Field(() => Float)
  max!: number;

  @Field(() => Int)
  count!: number;
}

@ObjectType("DataPoint", { implements: Node, description: "One measured quantity of a machine: temperature, speed, a part counter." })
export class DataPoint extends Node {
  dbId!: number;
  machineId!: number;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  unit?: string | null;

  @Field(() => DataTypeEnum)
  dataType!: DataType;

  @Field(() => NormalRange)
  normalRange!: NormalRange;

  @Field(() => MqttBinding)
  mqtt!: MqttBinding;

  @Field(() => SparkplugBinding, { nullable: true, description: "Set when the point is read from Sparkplug B instead of its MQTT topic." })
  sparkplug?: SparkplugBinding | null;
}

export function toDataPoint(row: DataPointRow, machinePath: string): DataPoint {
  return Object.assign(new DataPoint(), {
    id: globalId("DataPoint", row.id),
    dbId: row.id,
    machineId: row.machineId,
    name: row.name,
    unit: row.unit,
    dataType: row.dataType,
    normalRange: Object.assign(new NormalRange(), { min: row.normalMin, max: row.normalMax }),
    mqtt: Object.assign(new MqttBinding(), {
      topic: row.mqttTopic ?? (row.mqttField ? machinePath : `${machinePath}/${row.name}`),
      field: row.mqttField,
    }),
    sparkplug:
      row.sparkplugGroup === null || row.sparkplugNode === null
        ? null
        : Object.assign(new SparkplugBinding(), { group: row.sparkplugGroup, node: row.sparkplugNode, device: row.sparkplugDevice, metric: row.sparkplugMetric ?? row.name }),
  });
}
