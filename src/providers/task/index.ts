import type { Provider } from "../types";

/** Every task provider, in the order used to pick one when several are configured. */
export const TASK_PROVIDERS: readonly Provider<"task">[] = [];
