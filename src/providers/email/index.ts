import type { Provider } from "../types";
import { cloudflareEmail } from "./cloudflare";
import { mailgun } from "./mailgun";
import { postmark } from "./postmark";
import { resend } from "./resend";
import { sendgrid } from "./sendgrid";

/**
 * Every email provider, in the order used to pick one when several are configured.
 * The send_email binding comes last: it only reaches addresses the account allows.
 */
export const EMAIL_PROVIDERS: readonly Provider<"email">[] = [resend, sendgrid, postmark, mailgun, cloudflareEmail];
