import { describe, expect, it } from "vitest";
import { applyMergePatch } from "../../src/lib/merge-patch";
import { putAgent, request, uniqueId } from "../helpers";

describe("merge patch and prototype keys", () => {
  it("ignores __proto__, constructor and prototype at every depth", () => {
    const patch = JSON.parse('{"__proto__":{"name":"x"},"constructor":{"a":1},"voice_tools":{"prototype":1,"__proto__":{"b":2},"c":3}}');
    const merged = applyMergePatch({ name: "kept" }, patch) as Record<string, any>;
    expect(merged).toEqual({ name: "kept", voice_tools: { c: 3 } });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.voice_tools)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).name).toBeUndefined();
  });

  it("a PATCH with a __proto__ key cannot name the agent", async () => {
    const id = uniqueId("agent");
    const created = await request("PATCH", `/agents/${id}`, '{"__proto__":{"name":"x"}}');
    expect(created.status).toBe(201);
    expect(((await created.json()) as { name: string }).name).toBe(id);
    await putAgent(id, { name: "Acme Support" });
    const patched = await request("PATCH", `/agents/${id}`, '{"__proto__":{"name":"x"},"constructor":{"name":"y"}}');
    expect(((await patched.json()) as { name: string }).name).toBe("Acme Support");
  });
});
