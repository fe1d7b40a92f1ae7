// Overdue reminders through the real window, with a real SMTP server (aiosmtpd) on loopback.
// The store RM is set up the way a school's IT person would script it, with the `feedesk` CLI
// beside the app on the app's own data folder: a class of three members imported from a CSV
// with a guardian email column, a tuition bill 8 days overdue and a materials bill 25 days
// overdue each, the email sender, and RM's reminder policy (1/7/14 days, no quiet hours so the
// test can send at any hour). Then, in the window: the next batch shows each rendered message;
// queued, it waits for approval; one guardian pays meanwhile (CLI) and is not chased; the
// approved batch reaches the SMTP server; the delivery log shows what went and what was
// cancelled; the follow-up list takes an assignee, a note and a promise; the bill rows show
// their reminder tier.
//
// Run through tests/e2e/run.sh. Works on a fresh data folder and after the other files.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";

import { saveShot } from "./helpers.mjs";
import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const dataDir = process.env.FEEDESK_DATA_DIR;
const screenshotDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;
const root = new URL("../..", import.meta.url).pathname;
const cli = process.env.FEEDESK_CLI ?? (app ? join(dirname(app), "feedesk") : "feedesk");

let session;
let smtp;
let mailDir;
const MEMBERS = [
  ["RM001", "张小明", "rm001@parents.example.cn"],
  ["RM002", "李小红", "rm002@parents.example.cn"],
  ["RM003", "王小刚", "rm003@parents.example.cn"],
];

/** YYYY-MM-DD, `days` from today in Asia/Shanghai. */
function shanghaiDate(days) {
  return new Date(Date.now() + 8 * 3600 * 1000 + days * 86400 * 1000).toISOString().slice(0, 10);
}

/** Runs the CLI on the app's data folder; returns its JSON. */
function feedesk(...args) {
  const out = execFileSync(cli, ["--data-dir", dataDir, "--json", ...args], { encoding: "utf8" });
  return out.trim() ? JSON.parse(out) : null;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The mails the SMTP server accepted (smtp_sink.py writes each as .eml + .json). */
function mails() {
  return readdirSync(mailDir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(mailDir, f.replace(/\.eml$/, ".json")), "utf8")));
}

async function startSmtp() {
  mailDir = mkdtempSync(join(tmpdir(), "feedesk-e2e-mail-"));
  const port = await freePort();
  const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  smtp = spawn(python, [join(root, "tests/smtp_sink.py"), String(port), mailDir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    smtp.stdout.once("data", (chunk) => (String(chunk).includes("ready") ? resolve() : reject(new Error(String(chunk)))));
    smtp.once("exit", (code) => reject(new Error(`smtp_sink.py exited ${code} (is python3-aiosmtpd installed?)`)));
  });
  return port;
}

/** The store RM, its class, members, bills, the email sender and the policy, by CLI. */
function setUpStore(smtpPort) {
  try {
    feedesk("org", "list");
  } catch {
    feedesk("init", "--name", "星火教育集团");
  }
  feedesk("org", "add", "--parent", "HQ", "--kind", "store", "--code", "RM", "--name", "提醒校区");
  feedesk("term", "add", "--name", "提醒测试学期", "--start", shanghaiDate(-60), "--end", shanghaiDate(120));
  feedesk("class", "add", "--unit", "RM", "--term", "提醒测试学期", "--name", "钢琴提醒班");
  const csv = join(mkdtempSync(join(tmpdir(), "feedesk-e2e-roster-")), "提醒校区名单.csv");
  const rows = MEMBERS.map(([no, name, email], i) => `${no},${name},钢琴提醒班,1390000000${i + 1},${email}`);
  writeFileSync(csv, ["学号,姓名,班级,家长手机号码,家长邮箱", ...rows].join("\n") + "\n");
  const imported = feedesk("import", "roster", "--unit", "RM", "--term", "提醒测试学期", csv);
  assert.equal(imported.committed, true, JSON.stringify(imported.errors));
  feedesk("account", "add", "--unit", "RM", "--channel", "offline-cash", "--name", "RM前台现金");
  feedesk("fee", "add", "--unit", "RM", "--name", "提醒学费");
  feedesk("fee", "add", "--unit", "RM", "--name", "提醒材料费");
  for (const [fee, rule, due] of [
    ["提醒学费", "fixed:1200", shanghaiDate(-8)],
    ["提醒材料费", "fixed:300", shanghaiDate(-25)],
  ]) {
    const plan = feedesk("plan", "add", "--fee", fee, "--class", "RM/钢琴提醒班", "--rule", rule, "--due", due, "--account", "RM前台现金");
    feedesk("plan", "issue", String(plan.id));
  }
  feedesk(
    "notify", "add", "--channel", "email", "--smtp-host", "127.0.0.1", "--smtp-port", String(smtpPort),
    "--from", "提醒校区 <fees@rm.example.cn>", "--security", "none",
  );
  feedesk(
    "remind", "policy", "set", "--unit", "RM", "--tiers", "1:email,7:email,14:email", "--quiet-hours", "00:00-00:00",
    "--payment-link", "https://pay.xinghuo.example.cn/b/{bill}", "--contact-phone", "021-5555 0000",
  );
}

async function shot(name) {
  await saveShot(session, screenshotDir, name);
}

async function go(id) {
  await session.click(`nav-${id}`);
  await session.byTestId(`page-${id}`);
}

/** An attribute of the element with this test id. */
async function attr(testId, name) {
  return (await session.byTestId(testId)).attribute(name);
}

/** Texts of the elements matching `selector`. */
async function texts(selector) {
  const els = await session.findAll(selector);
  return Promise.all(els.map((e) => e.text()));
}

describe("reminders", () => {
  before(async () => {
    assert.ok(app, "FEEDESK_APP must point at the built app binary");
    assert.ok(dataDir, "FEEDESK_DATA_DIR must be a temp folder (never a user's data)");
    const port = await startSmtp();
    setUpStore(port);
    await waitForDriver(driverUrl);
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
  });

  after(async () => {
    if (session) await session.end().catch(() => {});
    if (smtp) smtp.kill();
  });

  afterEach(async () => {
    const notes = await session
      .execute(`return [...document.querySelectorAll('[role="alert"]')].map((n) => n.dataset.testid + ": " + n.textContent)`)
      .catch(() => []);
    for (const note of notes) console.log(`  (on screen) ${note}`);
  });

  test("the next batch shows each rendered message before anything is queued", async () => {
    await session.byTestId("nav-dashboard", 30000);
    await go("reminders");
    await session.byTestId("rem-batch");
    const messages = await waitFor(
      async () => {
        const all = await texts('[data-testid="rem-due-message"]');
        const ours = all.filter((t) => MEMBERS.some(([, name]) => t.includes(name)));
        return ours.length === 6 ? ours : null;
      },
      { what: "six messages for RM's three guardians" },
    );
    const xiaoming = messages.filter((t) => t.includes("张小明"));
    assert.equal(xiaoming.length, 2);
    assert.ok(xiaoming.some((t) => t.includes("已逾期8天") && t.includes("¥1200.00")), xiaoming.join("\n"));
    assert.ok(xiaoming.some((t) => t.includes("最后提醒") && t.includes("¥300.00")), xiaoming.join("\n"));
    assert.ok(xiaoming.every((t) => t.includes("rm001@parents.example.cn")));
    assert.ok(xiaoming.some((t) => t.includes("https://pay.xinghuo.example.cn/b/")));
    assert.equal(mails().length, 0, "a preview sends nothing");
    await shot("reminders-batch");
  });

  test("queued, the batch waits for approval; a guardian who pays meanwhile is not chased", async () => {
    await session.click("rem-queue");
    assert.match(await session.text("rem-queue-confirm-dialog-text"), /到期提醒/);
    await session.click("rem-queue-confirm-dialog-confirm");
    await session.byTestId("rem-run-report");
    const waiting = await waitFor(
      async () => {
        const rows = await texts('[data-testid="rem-awaiting-row"]');
        const ours = rows.filter((t) => MEMBERS.some(([, name]) => t.includes(name)));
        return ours.length === 6 ? ours : null;
      },
      { what: "six reminders waiting for approval" },
    );
    assert.ok(waiting.every((t) => t.trim().length > 20));
    assert.equal(mails().length, 0, "nothing goes before approval");

    // 张小明's guardian pays the tuition at the front desk (another cashier's window).
    const bill = feedesk("bill", "list", "--unit", "RM", "--search", "RM001").find((b) => b.fee === "提醒学费");
    feedesk("pay", "--bill", String(bill.id), "--amount", "1200", "--account", "RM前台现金", "--key", "e2e-rem-pay-1");

    // First 张小明's two rows only: select none, tick them, approve after reading the effect.
    await session.click("rem-select-none");
    await waitFor(async () => (await attr("rem-selected-count", "data-n")) === "0", { what: "nothing ticked" });
    await session.execute(`document.querySelectorAll('[data-testid="rem-awaiting-row"]').forEach((r) => {
      if (r.textContent.includes("张小明")) r.querySelector('input[type="checkbox"]').click();
    })`);
    await waitFor(async () => (await attr("rem-selected-count", "data-n")) === "2", { what: "two ticked" });
    await session.click("rem-approve");
    const confirmText = await session.text("rem-approve-confirm-dialog-text");
    assert.match(confirmText, /将立即发送 2 条提醒（邮件），涉及 1 位成员\/班级；发出后不能撤回。/);
    assert.equal(mails().length, 0, "nothing goes before the confirmation");
    await session.click("rem-approve-confirm-dialog-confirm");
    await waitFor(async () => (await session.byTestId("rem-run-report")).attribute("data-sent").then((n) => Number(n) === 1), {
      what: "张小明's materials reminder sent (the paid tuition is not chased)",
    });
    // The rest stay as the user left them: unticked (they used to come back ticked).
    await waitFor(async () => (await texts('[data-testid="rem-awaiting-row"]')).filter((t) => t.includes("张小明")).length === 0, {
      what: "张小明's rows approved",
    });
    assert.equal(await attr("rem-selected-count", "data-n"), "0", "the remaining rows stay unticked after an approval");
    await shot("reminders-selection");

    // Then the rest of the store RM, chosen by store.
    await session.choose("rem-select-store", "RM");
    await waitFor(async () => (await attr("rem-selected-count", "data-n")) === "4", { what: "RM's four rows ticked" });
    await session.click("rem-approve");
    assert.match(await session.text("rem-approve-confirm-dialog-text"), /将立即发送 4 条提醒/);
    await session.click("rem-approve-confirm-dialog-confirm");
    await waitFor(async () => (await session.byTestId("rem-run-report")).attribute("data-sent").then((n) => Number(n) === 4), {
      what: "the approved batch sent",
    });
    const got = await waitFor(() => (mails().length === 5 ? mails() : null), { what: "five mails at the SMTP server" });
    const to = got.map((m) => m.to[0]).sort();
    assert.deepEqual(to, [
      "rm001@parents.example.cn",
      "rm002@parents.example.cn",
      "rm002@parents.example.cn",
      "rm003@parents.example.cn",
      "rm003@parents.example.cn",
    ]);
    const xiaoming = got.find((m) => m.to[0] === "rm001@parents.example.cn");
    assert.ok(xiaoming.subject.includes("提醒材料费"), `only the unpaid materials fee: ${xiaoming.subject}`);
    await shot("reminders-sent");
  });

  test("the delivery log shows what went and what the payment cancelled", async () => {
    await session.byTestId("rem-log");
    await waitFor(async () => (await session.findAll('[data-testid="rem-log-row"][data-status="sent"]')).length >= 5, {
      what: "five sent rows",
    });
    const cancelled = await texts('[data-testid="rem-log-row"][data-status="cancelled"]');
    assert.ok(cancelled.some((t) => t.includes("张小明")), cancelled.join("\n"));
    await session.execute(`document.querySelector('[data-testid="rem-log"]').scrollIntoView()`);
    await shot("reminders-log");
  });

  test("the follow-up list takes an assignee, a note and a promised date", async () => {
    const row = '[data-testid="followup-row"][data-member="RM002"]';
    await waitFor(async () => (await session.findAll(row)).length === 1, { what: "RM002 on the follow-up list" });
    const rows = await texts('[data-testid="followup-row"]');
    assert.equal(rows.filter((t) => MEMBERS.some(([, name]) => t.includes(name))).length, 3, "25 days overdue: all three");
    // The inputs of RM002's row.
    const set = (selector, value) =>
      session.execute(
        `const el = document.querySelector(arguments[0]);
         const proto = el.tagName === "SELECT" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
         Object.getOwnPropertyDescriptor(proto, "value").set.call(el, arguments[1]);
         el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
         return true;`,
        [selector, value],
      );
    await set(`${row} [data-testid="followup-assignee"]`, "王老师");
    await set(`${row} [data-testid="followup-outcome"]`, "promised");
    await waitFor(async () => (await session.findAll(`${row} [data-testid="followup-promised"]`)).length === 1, {
      what: "the promised date field",
    });
    await set(`${row} [data-testid="followup-promised"]`, shanghaiDate(5));
    await set(`${row} [data-testid="followup-note"]`, "家长说周五前转账");
    const save = await session.find(`${row} [data-testid="followup-save"]`);
    await save.click();
    await waitFor(async () => (await session.find(row).then((e) => e.text())).includes("家长说周五前转账"), {
      what: "the note in the history",
    });
    const list = feedesk("followup", "list");
    const f = list.find((x) => x.member_no === "RM002");
    assert.equal(f.assignee, "王老师");
    assert.equal(f.outcome, "promised");
    assert.equal(f.promised_on, shanghaiDate(5));
    assert.deepEqual(
      f.history.map((e) => e.kind),
      ["opened", "assigned", "note", "outcome"],
    );
    await session.execute(`document.querySelector('[data-testid="rem-followups"]').scrollIntoView()`);
    await shot("reminders-followups");
  });

  test("bill rows show their reminder tier", async () => {
    await go("bills");
    await session.fill("bill-search", "RM00");
    await waitFor(async () => (await session.findAll('[data-testid="bill-reminder-tier"]')).length >= 5, {
      what: "reminder tiers on the bill rows",
    });
    const tiers = await texts('[data-testid="bill-reminder-tier"]');
    assert.ok(tiers.some((t) => t.includes("第2次提醒")), tiers.join(","));
    assert.ok(tiers.some((t) => t.includes("人工跟进")), tiers.join(","));
    await shot("bills-reminder-tier");
  });
});
