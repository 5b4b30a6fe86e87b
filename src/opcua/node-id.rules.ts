import { z } from "zod";

/** `ns=3;s=x`, `nsu=urn:...;i=1001`, `i=85`, `g=<guid>`, `b=<base64>`. Store the URI form: indexes can change at a restart. */
const NODE_ID = /^(?:(?:ns=\d+|nsu=[^;]+);)?(?:i=\d+|s=.+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/=]+)$/;

/** A NodeId as bindings and OPC UA methods name it. A module of its own: the actuation rules use it without the asset rules. */
export const nodeId = z.string().trim().max(1_024).regex(NODE_ID, { message: "expected a NodeId such as nsu=urn:example;s=Line1.Temperature or ns=2;i=1001" });
