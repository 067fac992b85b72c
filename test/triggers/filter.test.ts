import { describe, expect, it } from "vitest";
import type { FilterCondition } from "../../src/schemas/trigger";
import { parseFormBody } from "../../src/triggers/form-body";
import { evaluateFilter } from "../../src/triggers/filter";

const DEAL = {
  deal: { stage: "lost", amount: 5, owner: null, title: "", tags: ["vip", "renewal"], won: false },
  contact: { email: "ana@example.com" },
};

const cond = (field: string, op: FilterCondition["op"], value?: unknown): FilterCondition =>
  value === undefined ? { field, op } : { field, op, value };

describe("evaluateFilter", () => {
  it("passes with no conditions", () => {
    expect(evaluateFilter(DEAL, undefined)).toEqual({ pass: true });
    expect(evaluateFilter(DEAL, [])).toEqual({ pass: true });
  });

  it.each([
    cond("deal.stage", "exists"),
    cond("deal.tags", "exists"),
    cond("deal.won", "exists"),
    cond("deal.owner", "not_exists"),
    cond("deal.title", "not_exists"),
    cond("deal.nothing", "not_exists"),
    cond("deal.stage", "eq", "lost"),
    cond("deal.amount", "eq", "5"),
    cond("deal.amount", "eq", 5),
    cond("deal.won", "eq", "false"),
    cond("deal.stage", "ne", "won"),
    cond("deal.stage", "ne", "Lost"),
    cond("deal.nothing", "ne", "won"),
    cond("deal.stage", "in", ["won", "lost"]),
    cond("deal.amount", "in", [1, 5]),
    cond("contact.email", "contains", "@example."),
    cond("deal.tags", "contains", "vip"),
    cond("deal.amount", "contains", "5"),
    cond("contact.email", "matches", "^[^@]+@example\\.com$"),
    cond("deal.amount", "matches", "^\\d$"),
    cond("deal.stage", "matches", "\\p{Ll}+"),
  ])("passes %j", (condition) => {
    expect(evaluateFilter(DEAL, [condition])).toEqual({ pass: true });
  });

  it.each([
    [cond("deal.stage", "eq", "won"), 'deal.stage is "lost", not eq "won"'],
    [cond("deal.stage", "eq", "LOST"), 'deal.stage is "lost", not eq "LOST"'],
    [cond("deal.nothing", "eq", "won"), 'deal.nothing is missing, not eq "won"'],
    [cond("deal.owner", "eq", null), "deal.owner is null, not eq null"],
    [cond("deal.tags", "eq", "vip"), 'deal.tags is ["vip","renewal"], not eq "vip"'],
    [cond("deal.stage", "ne", "lost"), 'deal.stage is "lost", not ne "lost"'],
    [cond("deal.amount", "ne", "5"), 'deal.amount is 5, not ne "5"'],
    [cond("deal.stage", "in", ["won", "open"]), 'deal.stage is "lost", not in ["won","open"]'],
    [cond("deal.tags", "contains", "churn"), 'deal.tags is ["vip","renewal"], not contains "churn"'],
    [cond("deal.tags", "contains", "vi"), 'deal.tags is ["vip","renewal"], not contains "vi"'],
    [cond("contact", "contains", "ana"), 'contact is {"email":"ana@example.com"}, not contains "ana"'],
    [cond("contact.email", "matches", "^bob"), 'contact.email is "ana@example.com", not matches "^bob"'],
    [cond("deal.nothing", "matches", ".*"), 'deal.nothing is missing, not matches ".*"'],
    [cond("deal.nothing", "exists"), "deal.nothing is missing; exists needs a value"],
    [cond("deal.owner", "exists"), "deal.owner is null; exists needs a value"],
    [cond("deal.title", "exists"), "deal.title is empty; exists needs a value"],
    [cond("deal.stage", "not_exists"), 'deal.stage is "lost"; not_exists needs none'],
  ])("fails %j with %s", (condition, reason) => {
    expect(evaluateFilter(DEAL, [condition])).toEqual({ pass: false, reason });
  });

  it("needs every condition, and names the first that fails", () => {
    const conditions = [cond("deal.stage", "exists"), cond("deal.amount", "eq", 6), cond("deal.stage", "eq", "won")];
    expect(evaluateFilter(DEAL, conditions)).toEqual({ pass: false, reason: 'deal.amount is 5, not eq 6' });
  });

  it("compares a form body's strings with JSON numbers and booleans", () => {
    const form = parseFormBody("deal.amount=5&deal.won=true&deal.stage=won");
    expect(evaluateFilter(form, [cond("deal.amount", "eq", 5), cond("deal.won", "eq", true), cond("deal.stage", "in", ["won"])])).toEqual({
      pass: true,
    });
  });

  it("clips long values in the reason to 80 characters", () => {
    const long = "x".repeat(200);
    const result = evaluateFilter({ note: long }, [cond("note", "eq", "short")]);
    expect(result).toEqual({ pass: false, reason: `note is "${"x".repeat(79)}…, not eq "short"` });
  });

  it("never reads prototypes", () => {
    expect(evaluateFilter({}, [cond("constructor", "exists")])).toEqual({ pass: false, reason: "constructor is missing; exists needs a value" });
    expect(evaluateFilter({ s: "abc" }, [cond("s.length", "exists")])).toEqual({ pass: false, reason: "s.length is missing; exists needs a value" });
  });

  it("matches nothing for a pattern that is not a regular expression", () => {
    expect(evaluateFilter({ a: "x" }, [cond("a", "matches", "(")])).toEqual({ pass: false, reason: 'a is "x", not matches "("' });
  });
});
