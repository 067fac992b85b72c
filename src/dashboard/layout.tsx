import type { Child } from "hono/jsx";

/** The sections of the navigation, in order. */
export const SECTIONS = [
  ["overview", "Overview", "/dashboard"],
  ["agents", "Agents", "/dashboard/agents"],
  ["calls", "Calls", "/dashboard/calls"],
  ["deliveries", "Deliveries", "/dashboard/deliveries"],
  ["outbound", "Outbound calls", "/dashboard/outbound-calls"],
  ["triggers", "Triggers", "/dashboard/triggers"],
  ["outbox", "Outbox", "/dashboard/outbox"],
  ["settings", "Settings", "/dashboard/settings"],
] as const;
export type Section = (typeof SECTIONS)[number][0];

export interface PageProps {
  title: string;
  section: Section | null;
  nonce: string;
  /** Present once signed in: the sign-out form needs it. */
  csrf?: string;
  /** A one-line message after an action (from `?notice=`), shown at the top. */
  notice?: { text: string; bad?: boolean };
  children?: Child;
}

/** The page shell: navigation, the stylesheet and the one script. */
export function Page(props: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title} · callrelay</title>
        <link rel="stylesheet" href="/dashboard/assets/app.css" />
        <script nonce={props.nonce} src="/dashboard/assets/app.js" defer />
      </head>
      <body>
        {props.csrf !== undefined ? (
          <header class="top">
            <a class="brand" href="/dashboard">
              callrelay
            </a>
            <nav class="main" aria-label="Sections">
              {SECTIONS.map(([key, label, href]) => (
                <a href={href} aria-current={props.section === key ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
            <form class="inline" method="post" action="/dashboard/sign-out">
              <input type="hidden" name="_csrf" value={props.csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </header>
        ) : null}
        <main>
          {props.notice ? (
            <p class={props.notice.bad ? "notice bad" : "notice"} role="status">
              {props.notice.text}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every form of a signed-in page carries. */
export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;

/** A status as a coloured badge: green when it went well, amber while pending, red when it failed. */
export function StatusBadge(props: { status: string | null | undefined }) {
  const status = props.status ?? "unknown";
  const tone = ["delivered", "completed", "confirmed", "accepted", "ok"].includes(status)
    ? "ok"
    : ["failed", "gone", "dead", "cancelled", "declined"].includes(status)
      ? "bad"
      : ["pending", "retrying", "scheduled", "queued", "dialing", "in_progress"].includes(status)
        ? "warn"
        : "";
  return <span class={`badge ${tone}`}>{status}</span>;
}
