// Desktop benchmarks through the real window (run by `make bench-desktop`, which starts Xvfb
// and tauri-driver through run.sh with E2E_TESTS=tests/e2e/bench.mjs):
//   1. cold start: launch -> the dashboard's overview counts painted, median of BENCH_LAUNCHES;
//   2. members page with BENCH_MEMBERS (default 100,000) members: frame times while scrolling
//      (steady scrolling, then scrollbar-drag jumps across the whole list).
// The data folder is prepared with the CLI (FEEDESK_CLI, default target/release/feedesk).
// Prints a Markdown table and writes bench-desktop.json beside the screenshots.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { Session, waitFor, waitForDriver } from "./webdriver.mjs";

const driverUrl = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const app = process.env.FEEDESK_APP;
const dataDir = process.env.FEEDESK_DATA_DIR;
const cli = process.env.FEEDESK_CLI ?? new URL("../../target/release/feedesk", import.meta.url).pathname;
const members = Number(process.env.BENCH_MEMBERS ?? 100000);
const launches = Number(process.env.BENCH_LAUNCHES ?? 5);
const outDir = process.env.SCREENSHOT_DIR ?? new URL("./screenshots", import.meta.url).pathname;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x) => `${x.toFixed(1)} ms`;

function prepare() {
  const run = (...args) => execFileSync(cli, ["--data-dir", dataDir, ...args], { stdio: "pipe" });
  run("init", "--name", "基准测试教育集团");
  run("org", "add", "--parent", "HQ", "--kind", "region", "--code", "EAST", "--name", "华东区");
  run("org", "add", "--parent", "EAST", "--kind", "store", "--code", "XH", "--name", "西湖校区");
  run("term", "add", "--name", "2026秋季学期", "--start", "2026-09-01", "--end", "2027-01-20");
  const dir = mkdtempSync(join(tmpdir(), "feedesk-bench-"));
  const file = join(dir, `roster-${members}.csv`);
  const lines = ["学号,姓名,班级,家长姓名,家长手机号码,入学日期,状态"];
  const surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
  const given = ["子涵", "梓轩", "一诺", "欣怡", "浩然", "雨桐", "宇轩", "诗涵", "俊熙", "可馨"];
  for (let i = 0; i < members; i++) {
    const name = surnames[i % 10] + given[Math.floor(i / 10) % 10];
    lines.push(`M${String(i + 1).padStart(7, "0")},${name},钢琴${(i % 40) + 1}班,${surnames[(i + 3) % 10]}女士,13${5 + (i % 5)}${String(i).padStart(8, "0")},2026-09-01,${i % 17 ? "在读" : "退学"}`);
  }
  writeFileSync(file, lines.join("\n") + "\n");
  const started = Date.now();
  run("import", "roster", "--unit", "XH", "--term", "2026秋季学期", "--create-classes", file);
  return (Date.now() - started) / 1000;
}

test(`desktop benchmarks (${members} members, ${launches} launches)`, { timeout: 900000 }, async () => {
  assert.ok(app && dataDir, "run through tests/e2e/run.sh (make bench-desktop)");
  const importSeconds = prepare();
  await waitForDriver(driverUrl);

  // 1. Cold start, repeated: each launch is a fresh process (same data folder, warm disk cache).
  const wall = [];
  const painted = [];
  let session;
  for (let i = 0; i < launches; i++) {
    const started = performance.now();
    session = await Session.start(driverUrl, { browserName: "wry", "tauri:options": { application: app } });
    const mark = await waitFor(
      () => session.execute(`return performance.getEntriesByName("feedesk-overview-painted")[0]?.startTime ?? null`),
      { timeoutMs: 60000, intervalMs: 10, what: "overview painted" },
    );
    wall.push(performance.now() - started);
    painted.push(mark);
    if (i < launches - 1) await session.end();
  }

  // 2. Members page, 100k members: steady scroll, then scrollbar-drag jumps.
  await session.click("nav-members");
  await waitFor(async () => (await (await session.byTestId("member-total")).attribute("data-total")) === String(members), {
    timeoutMs: 30000,
    what: `${members} members listed`,
  });
  await session.setScriptTimeout(120000);
  const scroll = await session.executeAsync(`
    const done = arguments[arguments.length - 1];
    const el = document.querySelector('[data-testid="member-list"]');
    const blanks = () => el.querySelectorAll('[data-testid="member-row-loading"]').length;
    const result = { idle: [], steady: [], jump: [], jumpBlankFrames: 0, settleMs: [] };
    let last = performance.now();
    let t0 = last;
    // Baseline: 1 s of frames with nothing happening (the frame rate WebKit gives this window).
    function idle(now) {
      result.idle.push(now - last); last = now;
      if (now - t0 < 1000) requestAnimationFrame(idle); else { t0 = last = performance.now(); requestAnimationFrame(steady); }
    }
    function steady(now) {
      result.steady.push(now - last); last = now;
      el.scrollTop += 72; // two rows per frame
      if (now - t0 < 4000) requestAnimationFrame(steady); else { last = performance.now(); jumps = 0; requestAnimationFrame(jump); }
    }
    let jumps = 0;
    function jump(now) {
      result.jump.push(now - last); last = now;
      if (blanks() > 0) result.jumpBlankFrames++;
      if (jumps++ < 60) {
        el.scrollTop = Math.random() * (el.scrollHeight - el.clientHeight);
        requestAnimationFrame(jump);
      } else {
        // After the last jump: how long until every visible row is filled.
        const from = performance.now();
        (function settle() {
          if (blanks() === 0) { result.settleMs.push(performance.now() - from); done(result); }
          else requestAnimationFrame(settle);
        })();
      }
    }
    requestAnimationFrame(idle);
  `);
  // Control: a static, non-virtualised copy of the same rows in a same-sized box over the
  // list, scrolled the same way. Its frame times are what painting the scrolled rows costs on
  // this display, with no JavaScript work; the difference is the virtual list's own cost.
  const control = await session.executeAsync(`
    const done = arguments[arguments.length - 1];
    const list = document.querySelector('[data-testid="member-list"]');
    const rect = list.getBoundingClientRect();
    const box = document.createElement("div");
    box.className = "member-scroll";
    Object.assign(box.style, { position: "fixed", left: rect.left + "px", top: rect.top + "px", width: rect.width + "px", height: rect.height + "px", background: "#fff", zIndex: 10 });
    list.scrollTop = 0;
    const started = performance.now();
    (function wait() {
      if (list.querySelector('[data-testid="member-row"]')) run();
      else if (performance.now() - started > 10000) done([0, 0]);
      else setTimeout(wait, 20);
    })();
    function run() {
    const row = list.querySelector('[data-testid="member-row"]');
    let html = "";
    for (let i = 0; i < 400; i++) html += row.outerHTML.replace(/transform:[^;"]*;?/, "").replace("position: absolute", "position: static");
    box.innerHTML = '<div style="position: relative">' + html + "</div>";
    for (const r of box.querySelectorAll(".member-row")) r.style.position = "static";
    document.body.appendChild(box);
    const frames = [];
    let last = performance.now();
    const t0 = last;
    function step(now) {
      frames.push(now - last); last = now;
      box.scrollTop += 72;
      if (now - t0 < 2000) requestAnimationFrame(step); else { box.remove(); done(frames); }
    }
    requestAnimationFrame(step);
    }
  `);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "members-100k.png"), await session.screenshot());
  await session.end();

  const idle = scroll.idle.slice(1);
  const steady = scroll.steady.slice(1);
  const jump = scroll.jump.slice(1);
  const rows = [
    ["cold start: launch -> overview painted (wall, incl. WebDriver session)", `median ${ms(median(wall))} (min ${ms(Math.min(...wall))}, max ${ms(Math.max(...wall))}, n=${launches})`],
    ["cold start: navigation start -> overview painted (in page)", `median ${ms(median(painted))}`],
    ["idle frames (baseline: this display, no scrolling)", `median ${ms(median(idle))}, p95 ${ms(pct(idle, 95))}`],
    [`members scroll, ${members} members, steady 2 rows/frame for 4 s`, `frame median ${ms(median(steady))}, p95 ${ms(pct(steady, 95))}, max ${ms(Math.max(...steady))}, ${steady.length} frames`],
    ["control: static copy of the rows (no JS), same box, same scrolling", `frame median ${ms(median(control.slice(1)))}, p95 ${ms(pct(control.slice(1), 95))}`],
    ["members scroll, 60 random scrollbar jumps", `frame median ${ms(median(jump))}, p95 ${ms(pct(jump, 95))}, max ${ms(Math.max(...jump))}; frames with unfilled rows ${scroll.jumpBlankFrames}/${jump.length}; filled ${ms(scroll.settleMs[0])} after the last jump`],
    [`(setup) CLI import of ${members} members`, `${importSeconds.toFixed(1)} s`],
  ];
  console.log("\n| benchmark | result |\n|---|---|");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  writeFileSync(join(outDir, "bench-desktop.json"), JSON.stringify({ members, launches, wall, painted, ...scroll, importSeconds }, null, 1));
});
