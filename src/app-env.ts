import type { Config } from "./config";

/** The typed Hono context every route and middleware shares. */
export interface AppEnv {
  Bindings: CloudflareBindings;
  Variables: {
    config: Config;
    /** Set by ingest auth when the request must carry a valid Standard Webhooks signature. */
    signatureRequired?: boolean;
  };
}
