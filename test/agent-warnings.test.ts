import { describe, expect, it } from "vitest";
import { callEvent, postEvent, request, uniqueId } from "./helpers";

const ACTIONS = [{ type: "sms", template: "Hi" }, { type: "sms", template: "Sorry we missed you", when: ["no_answer"] }];

describe("warnings, not silence", () => {
  it("saving actions with follow-up disabled answers a warning; preview marks every action disabled", async () => {
    const agentId = uniqueId("agent");
    const saved = await request("PUT", `/agents/${agentId}`, { voice_tools: { post_call_follow_up: { actions: ACTIONS } } });
    expect(saved.status).toBe(201);
    expect(((await saved.json()) as any).warnings).toEqual([
      "follow-up is disabled: no action will run (set voice_tools.post_call_follow_up.enabled to true)",
    ]);
    const preview = (await (await request("POST", `/agents/${agentId}/preview`)).json()) as any;
    expect(preview.actions.map((a: any) => a.status)).toEqual(["disabled", "disabled"]);

    const accepted = (await (await postEvent(callEvent({ agent_id: agentId }))).json()) as any;
    expect(accepted.reason).toBe("post-call follow-up is disabled");

    const fixed = await request("PATCH", `/agents/${agentId}`, { voice_tools: { post_call_follow_up: { enabled: true } } });
    expect(((await fixed.json()) as any).warnings).toEqual([]);
  });

  it("preview marks an action its `when` excludes for the sample call as skipped", async () => {
    const agentId = uniqueId("agent");
    await request("PUT", `/agents/${agentId}`, { voice_tools: { post_call_follow_up: { enabled: true, actions: ACTIONS } } });
    const preview = (await (await request("POST", `/agents/${agentId}/preview`)).json()) as any;
    expect(preview.actions[0].status).not.toBe("skipped");
    expect(preview.actions[1]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/not one of when: no_answer/) });
  });
});
