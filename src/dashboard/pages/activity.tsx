import type { Hono } from "hono";
import { registerCallPages } from "../activity/calls";
import { registerDeliveryPages } from "../activity/deliveries";
import { registerOutboundPages } from "../activity/outbound";
import { registerOutboxPages } from "../activity/outbox";
import { registerTriggerPages } from "../activity/triggers";
import type { DashboardEnv } from "../env";

/** Calls, deliveries, outbound calls, triggers and the outbox (each in ../activity/). */
export function registerActivityPages(dashboard: Hono<DashboardEnv>) {
  registerCallPages(dashboard);
  registerDeliveryPages(dashboard);
  registerOutboundPages(dashboard);
  registerTriggerPages(dashboard);
  registerOutboxPages(dashboard);
}
