import type { CallEndedEvent } from "../schemas/call-event";

/** The call a preview renders against when none is given: every variable has a value. */
export const SAMPLE_CALL: CallEndedEvent = Object.freeze({
  call_id: "call_sample_0001",
  agent_id: "agent_sample",
  caller_number: "+14155551234",
  duration_seconds: 230,
  summary: "Caller asked about order #12345. The agent confirmed delivery on March 15 and offered a callback.",
  transcript: "Agent: Thanks for calling! How can I help?\nCaller: Hi, I'm checking on order 12345.",
  recording_url: "https://recordings.example.com/call_sample_0001.mp3",
  ended_at: "2026-03-10T15:04:05Z",
  outcome: "confirmed",
  details: { delivery_date: "March 15", next_steps: "Call back if the parcel has not arrived by March 16" },
  metadata: { order_id: "12345", caller_name: "John Smith", caller_email: "john@example.com" },
});
