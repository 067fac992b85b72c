import type { Provider } from "../types";

/** Every email provider, in the order used to pick one when several are configured. */
export const EMAIL_PROVIDERS: readonly Provider<"email">[] = [];
