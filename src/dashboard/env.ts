import type { AppEnv } from "../app-env";

/** The dashboard's context: the app's, plus the signed-in session. */
export interface DashboardEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & {
    /** The CSRF token every form of this session carries. */
    csrf: string;
    /** The nonce that lets this response's script run under the Content-Security-Policy. */
    nonce: string;
  };
}
