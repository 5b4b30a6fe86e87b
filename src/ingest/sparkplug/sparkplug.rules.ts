import { z } from "zod";

/** A Sparkplug group, edge node or device id: no MQTT separators, wildcards or spaces. */
export const sparkplugId = z.string().regex(/^[^/+#\s]{1,128}$/, { message: "expected 1-128 characters without '/', '+', '#' or spaces" });

/** Metric names may contain '/' (folders). */
export const sparkplugMetricName = z.string().min(1).max(256);
