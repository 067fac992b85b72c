import type { Provider } from "../types";

/** Every sms provider, in the order used to pick one when several are configured. */
export const SMS_PROVIDERS: readonly Provider<"sms">[] = [];
