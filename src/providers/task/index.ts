import type { Provider } from "../types";
import { asana } from "./asana";
import { clickup } from "./clickup";
import { hubspot } from "./hubspot";
import { jira } from "./jira";
import { linear } from "./linear";
import { todoist } from "./todoist";
import { trello } from "./trello";

/** Every task provider, in the order used to pick one when several are configured. */
export const TASK_PROVIDERS: readonly Provider<"task">[] = [todoist, asana, linear, jira, clickup, trello, hubspot];
