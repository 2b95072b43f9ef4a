/**
 * The Agents view in Debian's Chromium against a real peer daemon with real
 * git and a recorded model (a scripted OpenAI-compatible server process
 * replaying tests/fixtures/agent-loop/list-then-think.json — not a live
 * model): an agent made on the peer appears with what it holds and its
 * budget; its loop's model call shows as spend per agent and per task,
 * with the transcript live while the model "thinks"; Pause, signed by the
 * person's key in the browser, stops the loop on the peer; an approval
 * request shows its plan and hash and is answered from the browser, and the
 * peer's waiting agent gets the approval; a person without the rights sees
 * why every control is off, and an operation forced past the UI is refused;
 * Revoke from the browser ends the agent on the peer; the form makes a new
 * agent on the peer with what it says, and Bob sees why he may not; an
 * agent run by another member peer shows its live transcript, with each
 * call's cost, through the peer that served the page.
 * Screenshots go to tests/e2e/screenshots/.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { startRecordedModel } from "../helpers/recorded-model-server.ts";
import { llmToml, LOOP_FIXTURES } from "../helpers/agent-loop-rig.ts";
import { planHash } from "../../protocol/approvals/plan-hash.ts";
import type { Space } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { appReady, did, join, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../peer/cli/weft.ts", import.meta.url));
const HELPER = fileURLToPath(new URL("../../peer/cli/git-remote-weft.js", import.meta.url));

describe("the Agents view in Chromium against a peer daemon", { timeout: 600_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let bob: Profile;
  let work: string;
  let model: Awaited<ReturnType<typeof startRecordedModel>>;
  let agentDid: string;
  const card = (p: Profile) => p.page.locator("[data-agent=fixer]");

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    model = await startRecordedModel(joinPath(LOOP_FIXTURES, "list-then-think.json"));
    d = await testDaemon({}, llmToml(model.url, "recorded-think"));
    space = d.daemon.node.spaces()[0];

    // A repository the agent can work on: one commit on main, with the tests spec the loop reads first.
    const bin = await mkdtemp(joinPath(tmpdir(), "weft-bin-"));
    await symlink(HELPER, joinPath(bin, "git-remote-weft"));
    work = await mkdtemp(joinPath(tmpdir(), "weft-agents-ui-"));
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      WEFT_HOME: d.home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@weft.invalid",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@weft.invalid",
    };
    const git = (cwd: string, ...args: string[]) => run("git", args, { cwd, env });
    await run(process.execPath, [CLI, "repo", "create", "demo"], { cwd: work, env });
    const repo = joinPath(work, "demo");
    await git(work, "clone", "-q", `weft::${space.id}/demo`, repo);
    await mkdir(joinPath(repo, ".weft"));
    await writeFile(joinPath(repo, "add.sh"), "add() { echo $(($1 - $2)); }\n");
    await writeFile(
      joinPath(repo, ".weft", "tests.json"),
      JSON.stringify({ image: `sha256:${"0".repeat(64)}`, command: ["sh", "test.sh"] }),
    );
    await git(repo, "add", ".");
    await git(repo, "commit", "-q", "-m", "add, with a bug");
    await git(repo, "push", "-q", "origin", "HEAD:refs/heads/main");

    [ada, bob] = await Promise.all([openProfile(), openProfile()]);
    for (const p of [ada, bob]) {
      await p.page.goto(d.daemon.url);
      await appReady(p.page);
    }
    await join(ada.page, await d.daemon.node.invite(space.id, { name: "Ada" }));
    // Bob may sync and read, nothing more: no pause, no approvals, no admin.
    await join(bob.page, await d.daemon.node.invite(space.id, { command: Commands.spaceSync, name: "Bob" }));
  });

  after(async () => {
    await bob?.close();
    await ada?.close();
    await d?.stop();
    model?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("shows an agent made on the peer with what it holds and its budget", async () => {
    const made = await d.client.request<{ did: string }>("POST", `/v1/spaces/${space.id}/agents`, {
      name: "fixer",
      labels: ["bug"],
      runners: ["container"],
      budget: { usd: 1_000_000 },
    });
    agentDid = made.did;
    const page = ada.page;
    await page.click("nav >> text=Agents");
    await page.locator("#agents-title").waitFor();
    const c = card(ada);
    await c.waitFor({ timeout: 30_000 });
    // The agent's record, what it is granted and its budget are separate operations: the card can show one before
    // another.
    await eventually(
      async () =>
        (await c.locator("[data-runners]").innerText()) === "container" &&
        (await c.locator("[data-push]").innerText()) === "refs/heads/agent/fixer/*" &&
        (await c.locator("[data-budget]").innerText()) === "$1.00",
      30_000,
      "the card to show what the agent may run and spend",
    );
    assert.equal(await c.getAttribute("data-agent-state"), "active");
    assert.equal(await c.locator("[data-labels] .tag").innerText(), "bug");
    assert.equal(await c.locator("[data-runners]").innerText(), "container");
    assert.equal(await c.locator("[data-push]").innerText(), "refs/heads/agent/fixer/*");
    assert.equal(await c.locator("[data-budget]").innerText(), "$1.00");
    assert.match(await c.locator("[data-spent]").innerText(), /^\$0\.00 of \$1\.00, 0 tokens$/);
    assert.match(await c.innerText(), /proposes; never merges/);
  });

  it("shows the loop's spend and live transcript, and Pause from the browser stops it on the peer", async () => {
    const task = await space.createTask({ title: "add 2 3 should be 5", labels: ["bug", "repo:demo"] });
    // One pass of the loop on the peer; it ends only when stopped (the recorded model thinks forever on turn 2).
    const pass = d.client.request<{ outcome: { kind: string; reason?: string } }>(
      "POST",
      `/v1/spaces/${space.id}/agents/fixer/run`,
      {},
    );
    pass.catch(() => {}); // awaited below; a failure before then is reported by the assertions
    const c = card(ada);
    // Turn 1 was answered and settled: spend per agent and per task, as every node reduces it.
    await c.locator(`[data-task-spend] tr[data-task="${task.id}"]`).waitFor({ timeout: 60_000 });
    const spent = await eventually(
      () => {
        const s = space.log.reducer.spend.agent(agentDid).spent;
        return s.usd > 0 && s.tokens > 0 ? s : undefined;
      },
      30_000,
      "the first call settled on the peer",
    ) as { usd: number; tokens: number };
    await eventually(
      async () => (await c.locator("[data-spent]").innerText()).includes(`${spent.tokens} tokens`),
      30_000,
      "the spend shown in the browser",
    );
    assert.match(await c.locator("[data-current]").innerText(), /Working on add 2 3 should be 5/);
    // The transcript, live from the peer that runs it: the model's first tool call and what it saw.
    await c.locator("[data-loop-step]", { hasText: "thinking" }).waitFor({ timeout: 30_000 });
    await c.locator("[data-transcript] [data-role=assistant]", { hasText: "list_files" }).waitFor();
    assert.match(await c.locator("[data-transcript]").innerText(), /add\.sh/);
    await shot(ada.page, "60-agent-thinking");

    await c.locator("input[aria-label='Why pause (optional)']").fill("stop for review");
    await c.locator("[data-pause]").click();
    const ended = await pass;
    assert.equal(ended.outcome.kind, "stopped", JSON.stringify(ended));
    assert.match(ended.outcome.reason ?? "", /paused by/);
    const adaDid = await did(ada.page);
    assert.equal(space.log.reducer.spend.paused(agentDid)?.by, adaDid, "the pause is Ada's own, signed in her browser");
    assert.equal(space.log.reducer.spend.paused(agentDid)?.reason, "stop for review");
    await c.locator("[data-state]", { hasText: "paused" }).waitFor();
    await c.locator("[data-outcome=stopped]").waitFor({ timeout: 30_000 });
    await shot(ada.page, "61-agent-paused");

    await c.locator("[data-pause]", { hasText: "Resume" }).click();
    await eventually(() => space.log.reducer.spend.paused(agentDid) === undefined, 30_000, "the resume on the peer");
    await c.locator("[data-state]", { hasText: "active" }).waitFor();
  });

  it("an approval answered from the browser reaches the waiting agent on the peer", async () => {
    const plan = { step: "spend past the threshold", why: "two more model calls to finish the fix", calls: 2 };
    const asked = d.daemon.agents.requestApproval(space, "fixer", { kind: "spend", upToUsd: 2_000_000, plan });
    const text = JSON.stringify(plan, null, 2);
    const request = ada.page.locator("[data-request]");
    await request.waitFor({ timeout: 30_000 }).catch((e) => {
      throw new Error(`${e.message}; page errors: ${JSON.stringify(ada.errors)}`);
    });
    assert.equal(await request.locator("[data-plan]").innerText(), text, "the plan exactly as approved");
    assert.equal(await request.locator("[data-plan-hash]").innerText(), planHash(text));
    assert.equal(await request.locator("[data-scope]").innerText(), "up to $2.00 spent in this space");
    assert.equal(await ada.page.locator("nav [data-waiting-count]").innerText(), "1", "counted on the Agents link");
    await shot(ada.page, "62-approval-waiting");
    await request.locator("[data-approve]").click();
    const approval = await asked;
    assert.equal(approval.by, await did(ada.page));
    assert.equal(approval.hash, planHash(text));
    assert.ok(approval.expires > Date.now() + 50 * 60_000, "usable for the hour chosen by default");
    await ada.page.locator("[data-no-requests]").waitFor();
  });

  it("a person without the rights sees why each control is off, and a forced pause is refused", async () => {
    const page = bob.page;
    await page.goto(`${d.daemon.url}/#/s/${space.id}/agents`);
    const c = card(bob);
    await c.waitFor({ timeout: 30_000 });
    assert.equal(await c.locator("[data-pause]").isDisabled(), true);
    assert.match(
      await c.locator("[data-why=pause]").innerText(),
      /Pause is off: your delegation in this space does not include \/weft\/agent\/pause/,
    );
    assert.match(await c.locator("[data-why=revoke]").innerText(), /Revoke is off: revoking an agent needs/);
    assert.match(
      await page.locator("[data-why=add-agent]").innerText(),
      /Making an agent here is off: making an agent needs \/weft\/space\/admin/,
    );
    // A request Bob may not answer shows its plan, with Approve and Deny off and why.
    const asked = d.daemon.agents.requestApproval(space, "fixer", { kind: "network", program: "curl", plan: "fetch" });
    asked.catch(() => {}); // ends unanswered when the agent is revoked below
    const request = page.locator("[data-request]");
    await request.waitFor({ timeout: 30_000 });
    assert.equal(await request.locator("[data-approve]").isDisabled(), true);
    assert.match(await request.locator("[data-why=answer]").innerText(), /does not include \/weft\/agent\/approve/);
    await shot(page, "63-agents-no-rights");
    // Past the UI: Bob's own node refuses to sign what his chain does not cover, and nothing reaches the peer.
    const refused = await page.evaluate(async ([id, agent]) => {
      const weft = (globalThis as unknown as {
        weft: { node: { space(s: string): { agentOp(k: string, a: { agent: string }): Promise<void> } } };
      }).weft;
      try {
        await weft.node.space(id).agentOp("pause", { agent });
        return "signed";
      } catch (e) {
        return (e as Error).message;
      }
    }, [space.id, agentDid]);
    assert.match(refused, /holds no delegation for \/weft\/agent\/pause in space/);
    assert.equal(space.log.reducer.spend.paused(agentDid), undefined, "the agent still runs on the peer");
  });

  it("Revoke from the browser ends the agent on the peer", async () => {
    const c = card(ada);
    await ada.page.goto(`${d.daemon.url}/#/s/${space.id}/agents`);
    await c.locator("[data-revoke]").click();
    assert.match(await c.locator("[data-revoke-notice]").innerText(), /for good, on every node/);
    await c.locator("[data-confirm-revoke]").click();
    await c.locator("[data-state]", { hasText: "revoked" }).waitFor({ timeout: 30_000 });
    const held = [...space.authority.delegations].filter((x) => x.aud === agentDid);
    assert.ok(held.length > 0);
    await eventually(() => held.every((x) => space.authority.isRevoked(x.cid)), 30_000, "every delegation revoked");
    const now = Math.floor(Date.now() / 1000);
    assert.equal(space.authority.chainsFor(agentDid, Commands.taskReserve, now).length, 0, "it may spend no more");
    await shot(ada.page, "64-agent-revoked");
  });
  it("makes an agent from the browser's form, on the peer, signed with the person's key", async () => {
    const page = ada.page;
    await page.goto(`${d.daemon.url}/#/s/${space.id}/agents`);
    const form = page.locator("[data-add-agent]");
    await form.waitFor({ timeout: 30_000 });
    // Bad input is refused in the browser, saying what to fix, and nothing is made.
    await form.locator("[name=agent-name]").fill("docs");
    await form.locator("[name=agent-labels]").fill("docs, typo");
    await form.locator("[name=agent-budget]").fill("two dollars");
    await form.locator("button[type=submit]").click();
    await page.locator("text=is not an amount").waitFor({ timeout: 10_000 });
    assert.equal((await d.daemon.agents.list(space.id)).some((r) => r.name === "docs"), false);

    await form.locator("[name=agent-budget]").fill("0.50");
    await form.locator("[name=agent-runner-container]").uncheck();
    await form.locator("[name=agent-runner-nix]").check();
    await form.locator("#agent-expiry").selectOption({ label: "7 days" });
    await form.locator("[name=agent-run]").check();
    await form.locator("button[type=submit]").click();
    const c = page.locator("[data-agent=docs]");
    await c.waitFor({ timeout: 30_000 });
    // Its delegations reach the browser one by one: the card fills in as they arrive.
    await c.locator("[data-runners]", { hasText: /^nix$/ }).waitFor({ timeout: 30_000 });
    await c.locator("[data-budget]", { hasText: "$0.50" }).waitFor({ timeout: 30_000 });
    assert.equal(await c.getAttribute("data-agent-state"), "active");
    assert.deepEqual(await c.locator("[data-labels] .tag").allInnerTexts(), ["docs", "typo"]);
    await shot(page, "65-agent-made-in-browser");

    // On the peer: its key there, the budget and expiry asked, run by the daemon, made at the person's request.
    const made = (await d.daemon.agents.list(space.id)).find((r) => r.name === "docs")!;
    assert.deepEqual(made.labels, ["docs", "typo"]);
    assert.deepEqual(made.runners, ["nix"]);
    assert.equal(made.budget.usd, 500_000);
    assert.equal(made.by, await did(page), "asked for by the person's own key");
    assert.equal(made.run, true);
    const week = Math.floor(Date.now() / 1000) + 7 * 86_400;
    assert.ok(made.expires !== null && Math.abs(made.expires - week) < 120, `expires ${made.expires}`);
    const shown = await d.client.get<{ auto?: { state: string } }>(`/v1/spaces/${space.id}/agents/docs`);
    assert.ok(shown.auto, "the daemon runs it by itself");
  });

  it("follows live the transcript of an agent another member peer runs", async () => {
    // Peer e joins the space and runs agent scout on the same recorded model; the browser knows only peer d.
    const e = await testDaemon({}, llmToml(model.url, "recorded-think"));
    try {
      const invite = await d.daemon.node.invite(space.id, { audience: e.daemon.node.did });
      const address = d.daemon.node.libp2p!.getMultiaddrs()[0].toString();
      await e.client.request("POST", "/v1/spaces/join", { invite, peers: [address] });
      await eventually(
        async () =>
          (await e.client.get<{ local: Record<string, string> }>(`/v1/spaces/${space.id}/repos/demo`).catch(() => ({
            local: {} as Record<string, string>,
          }))).local["refs/heads/main"],
        60_000,
        "e holds the repository",
      );
      await e.client.request("POST", `/v1/spaces/${space.id}/agents`, {
        name: "scout",
        labels: ["scout"],
        runners: ["container"],
        budget: { usd: 1_000_000 },
      });
      const task = await space.createTask({ title: "look around", labels: ["scout", "repo:demo"] });
      await eventually(() => e.daemon.node.space(space.id)?.task(task.id), 30_000, "e has the task");
      const pass = e.client.request<{ outcome: { kind: string } }>(
        "POST",
        `/v1/spaces/${space.id}/agents/scout/run`,
        {},
      );
      pass.catch(() => {}); // awaited below
      const page = ada.page;
      await page.goto(`${d.daemon.url}/#/s/${space.id}/agents`);
      const c = page.locator("[data-agent=scout]");
      await c.waitFor({ timeout: 30_000 });
      // Its first turn, with the call's cost, relayed by d from e while the model still "thinks" on e.
      await c.locator("[data-transcript] [data-role=assistant]", { hasText: "list_files" }).waitFor({
        timeout: 90_000,
      });
      assert.match(await c.locator("[data-transcript]").innerText(), /add\.sh/);
      assert.match(await c.locator("[data-usage]").first().innerText(), /turn 1, \d+ tokens, \$/);
      await c.locator("[data-loop-step]", { hasText: "thinking" }).waitFor({ timeout: 30_000 });
      assert.equal(
        (await d.daemon.agents.list(space.id)).some((r) => r.name === "scout"),
        false,
        "d does not run it: what the page shows came from e",
      );
      await shot(page, "66-remote-agent-transcript");
      await e.client.request("POST", `/v1/spaces/${space.id}/agents/scout/pause`, {});
      assert.equal((await pass).outcome.kind, "stopped");
    } finally {
      await e.stop();
    }
  });
});
