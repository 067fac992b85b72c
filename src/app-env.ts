import type { Config } from "./config";

/** The typed Hono context every route and middleware shares. */
export interface AppEnv {
  Bindings: CloudflareBindings;
  Variables: {
    config: Config;
    /** Set by ingest auth when the request must carry a valid Standard Webhooks signature. */
    signatureRequired?: boolean;
    /**
     * Set by ingest auth when the bearer token is not INGEST_API_KEY: the token's SHA-256,
     * which must be an ingest key of the event's agent (checked once the body is parsed).
     */
    agentKeyHash?: string;
  };
}
