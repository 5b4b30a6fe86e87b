import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { ApiKeyResolver } from "./api-key/api-key.resolver.js";
import { authChecker } from "./auth-checker.js";
import { EnterpriseResolver, SiteResolver, AreaResolver, LineResolver } from "./asset/hierarchy.resolver.js";
import { AssetMutationResolver } from "./asset/asset.mutation.resolver.js";
import { MachineResolver } from "./asset/machine.resolver.js";
import { DataPointResolver } from "./data-point/data-point.resolver.js";
import { IntegrationResolver } from "./integration/integration.resolver.js";
import { QuarantineResolver } from "./quarantine/quarantine.resolver.js";
import { ReadingResolver } from "./reading/reading.resolver.js";
import { SecurityEventResolver } from "./security-event/security-event.resolver.js";
import { NodeResolver } from "./relay/node.resolver.js";
import { RuleResolver } from "./rule/rule.resolver.js";
import { AlarmResolver } from "./alarm/alarm.resolver.js";
import { AutomationResolver } from "./automation/automation.resolver.js";
import { TaskResolver } from "./task/task.resolver.js";
import { MachineTaskResolver } from "./task/machine-task.resolver.js";
import { ActuationResolver } from "./actuation/actuation.resolver.js";
import { DataPointActuationResolver, MachineMethodResolver } from "./actuation/actuation-target.resolver.js";
import { EventActionResolver } from "./event-action/event-action.resolver.js";
import { LotExportResolver } from "./lot/lot-export.resolver.js";
import { LotEventResolver, LotRecordResolver } from "./lot/lot-record.resolver.js";
import { LotResolver } from "./lot/lot.resolver.js";
import { MachineCapacityResolver, MachineSuggestionResolver, OrderResolver } from "./order/order.resolver.js";
import { AvailabilityResolver, LineCalendarResolver, MachineAvailabilityResolver, SiteCalendarResolver } from "./availability/availability.resolver.js";
import { OpcuaEndpointResolver } from "./opcua/opcua-endpoint.resolver.js";
import { OpcuaBindingResolver } from "./opcua/opcua-binding.resolver.js";
import { AuditResolver } from "./audit/audit.resolver.js";
import { SignatureResolver } from "./signature/signature.resolver.js";

export const resolvers = [
  NodeResolver,
  EnterpriseResolver,
  SiteResolver,
  AreaResolver,
  LineResolver,
  MachineResolver,
  DataPointResolver,
  AssetMutationResolver,
  QuarantineResolver,
  ReadingResolver,
  IntegrationResolver,
  ApiKeyResolver,
  SecurityEventResolver,
  RuleResolver,
  AlarmResolver,
  AutomationResolver,
  TaskResolver,
  MachineTaskResolver,
  EventActionResolver,
  LotResolver,
  LotRecordResolver,
  LotEventResolver,
  LotExportResolver,
  ActuationResolver,
  DataPointActuationResolver,
  MachineMethodResolver,
  AvailabilityResolver,
  MachineAvailabilityResolver,
  SiteCalendarResolver,
  LineCalendarResolver,
  OrderResolver,
  MachineCapacityResolver,
  MachineSuggestionResolver,
  OpcuaEndpointResolver,
  OpcuaBindingResolver,
  AuditResolver,
  SignatureResolver,
] as const;

/**
 * type-graphql insists on a schema-wide pubSub, but ours is made per hub (in memory or Redis) and
 * reached through the context: every @Subscription passes its own `subscribe`. This one only
 * reports a subscription that forgot to.
 */
const contextPubSubOnly = {
  publish: () => {
    throw new Error("publish through context.pubsub");
  },
  subscribe: () => {
    throw new Error("every @Subscription must give `subscribe` and use context.pubsub");
  },
};

let built: Promise<GraphQLSchema> | undefined;

/** Built once per process; type-graphql's metadata is global, so rebuilding gains nothing. */
export function buildGraphqlSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({ resolvers, validate: false, emitSchemaFile: false, pubSub: contextPubSubOnly, authChecker, authMode: "error" });
  return built;
}
