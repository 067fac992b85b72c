import type { Provider } from "../types";
import { plivo } from "./plivo";
import { telnyx } from "./telnyx";
import { twilio } from "./twilio";
import { vonage } from "./vonage";

/** Every sms provider, in the order used to pick one when several are configured. */
export const SMS_PROVIDERS: readonly Provider<"sms">[] = [twilio, telnyx, vonage, plivo];
