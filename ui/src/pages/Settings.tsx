// Settings → Channel accounts: the WeChat Pay and Alipay accounts money is collected into.
// Secrets are entered once, as key files the user picks; the Rust side reads them and puts
// them in the OS keyring. The window never receives a secret: afterwards an account shows only
// "configured ····1a2b". "Test connection" makes a signed query the channel must answer with a
// verified signature, moving no money.
import { useMutation } from "@tanstack/react-query";
import { Fragment, useMemo, useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n, type MessageKey } from "../i18n";
import { e2eUseFile } from "../ipc/roster";
import {
  channelAccountAdd,
  channelAccountConfigure,
  channelAccountTest,
  channelKeyPick,
  type ChannelAccount,
  type ChannelKeysForm,
} from "../ipc/channels";
import { asIpcError } from "../ipc/invoke";
import { channelLabel } from "../labels";
import { flatten, useAppInfo, useChannelAccounts, useRefreshAll, useTree } from "../queries";

export function Settings() {
  return (
    <div className="stack">
      <ChannelAccounts />
    </div>
  );
}

function ChannelAccounts() {
  const { t } = useI18n();
  const accounts = useChannelAccounts();
  return (
    <>
      <section className="card" data-testid="channel-accounts">
        <h3>{t("settings.channels")}</h3>
        <p className="muted small">{t("settings.channelsHint")}</p>
        <ErrorNote error={accounts.error && asIpcError(accounts.error)} testId="channel-list-error" />
        {accounts.data && accounts.data.length === 0 && <p className="muted">{t("settings.noChannels")}</p>}
        {accounts.data && accounts.data.length > 0 && (
          <div className="table-scroll">
            <table className="grid middle channel-list" data-testid="channel-account-list">
              <thead>
                <tr>
                  <th>{t("settings.accountName")}</th>
                  <th>{t("settings.channel")}</th>
                  <th>{t("settings.unit")}</th>
                  <th>{t("settings.merchant")}</th>
                  <th>{t("settings.keys")}</th>
                  <th>{t("settings.baseUrl")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {accounts.data.map((a) => (
                  <AccountRow key={a.id} account={a} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <ChannelKeyForm />
    </>
  );
}

function AccountRow({ account: a }: { account: ChannelAccount }) {
  const { t, lang } = useI18n();
  const test = useMutation({ mutationFn: () => channelAccountTest(String(a.id)) });
  const [configuring, setConfiguring] = useState(false);
  const keyed = a.channel === "wechat" || a.channel === "alipay";
  return (
    <Fragment>
    <tr
      data-testid="channel-account-row"
      data-account-id={a.id}
      data-name={a.name}
      data-channel={a.channel}
      data-configured={String(a.configured)}
      data-hint={a.secret_hint ?? ""}
      className={a.archived ? "undone" : undefined}
    >
      <td className="nowrap">
        {a.name}
        {a.archived && <span className="detail">{t("fees.archived")}</span>}
      </td>
      <td className="nowrap">{channelLabel(t, a.channel)}</td>
      <td>{a.unit_code}</td>
      <td>
        <span className="mono">{a.merchant_id ?? "—"}</span>
        {a.appid && <span className="detail mono">{a.appid}</span>}
      </td>
      <td data-testid={`channel-keys-${a.id}`}>
        {a.configured ? (
          <span className="status status-paid hint">{t("settings.configured", { hint: a.secret_hint ?? "" })}</span>
        ) : (
          <span className="status status-open">{t("settings.notConfigured")}</span>
        )}
      </td>
      <td className="url">
        <span className="mono small">{a.base_url ?? "—"}</span>
      </td>
      <td className="actions test-cell">
        {a.configured && (
          <button type="button" data-testid={`channel-test-${a.id}`} disabled={test.isPending} onClick={() => test.mutate()}>
            {test.isPending ? t("settings.testing") : t("settings.test")}
          </button>
        )}
        {test.data && (
          <span className="detail ok" data-testid={`channel-test-result-${a.id}`} data-ok={String(test.data.ok)}>
            ✓ {lang === "zh" ? t("settings.testOk") : test.data.detail}
          </span>
        )}
        <ErrorNote error={test.error && asIpcError(test.error)} testId={`channel-test-error-${a.id}`} />
        {keyed && !a.archived && !configuring && (
          <button
            type="button"
            data-testid={`channel-configure-${a.id}`}
            onClick={() => {
              test.reset();
              setConfiguring(true);
            }}
          >
            {a.configured ? t("settings.replaceKeys") : t("settings.configureKeys")}
          </button>
        )}
      </td>
    </tr>
    {configuring && keyed && (
      <tr className="configure-row" data-testid={`channel-configure-row-${a.id}`}>
        <td colSpan={7}>
          <ChannelKeyForm account={a} onClose={() => setConfiguring(false)} />
        </td>
      </tr>
    )}
    </Fragment>
  );
}

type KeyField = "private_key_file" | "apiv3_key_file" | "platform_public_key_file" | "alipay_public_key_file";

const WECHAT_FILES: KeyField[] = ["private_key_file", "apiv3_key_file", "platform_public_key_file"];
const ALIPAY_FILES: KeyField[] = ["private_key_file", "alipay_public_key_file"];

function fileLabel(channel: "wechat" | "alipay", field: KeyField): MessageKey {
  return `keyfile.${channel}.${field}` as MessageKey;
}

/** The channel's ids and key files: a new account (no `account`), or new keys for an existing
 *  one (`account`: its channel is fixed, its ids start filled in, and every test id is prefixed
 *  with `configure-` so the add form below never clashes with it). */
function ChannelKeyForm({ account, onClose }: { account?: ChannelAccount; onClose?: () => void }) {
  const { t } = useI18n();
  const tid = (id: string) => (account ? `configure-${id}` : id);
  const refresh = useRefreshAll();
  const tree = useTree();
  const units = useMemo(() => flatten(tree.data).map((u) => u.node), [tree.data]);
  const [picked, setPicked] = useState("");
  const unit = picked || tree.data?.code || "";
  const [chosen, setChannel] = useState<"wechat" | "alipay">("wechat");
  const channel: "wechat" | "alipay" = account ? (account.channel === "alipay" ? "alipay" : "wechat") : chosen;
  const [name, setName] = useState("");
  const [ids, setIds] = useState(() => ({
    mch_id: account?.channel === "wechat" ? (account.merchant_id ?? "") : "",
    appid: account?.channel === "wechat" ? (account.appid ?? "") : "",
    cert_serial: account?.cert_serial ?? "",
    platform_key_id: account?.platform_key_id ?? "",
    app_id: account?.channel === "alipay" ? (account.merchant_id ?? account.appid ?? "") : "",
  }));
  const [files, setFiles] = useState<Partial<Record<KeyField, string>>>({});
  const [baseUrl, setBaseUrl] = useState(account?.base_url ?? "");
  const setId = (field: keyof typeof ids) => (e: { target: { value: string } }) => setIds((v) => ({ ...v, [field]: e.target.value }));

  const add = useMutation({
    mutationFn: () => {
      const keys: ChannelKeysForm =
        channel === "wechat"
          ? {
              channel,
              mch_id: ids.mch_id,
              appid: ids.appid,
              cert_serial: ids.cert_serial,
              private_key_file: files.private_key_file ?? "",
              apiv3_key_file: files.apiv3_key_file ?? "",
              platform_public_key_file: files.platform_public_key_file ?? "",
              platform_key_id: ids.platform_key_id,
              base_url: baseUrl || null,
            }
          : {
              channel,
              app_id: ids.app_id,
              private_key_file: files.private_key_file ?? "",
              alipay_public_key_file: files.alipay_public_key_file ?? "",
              base_url: baseUrl || null,
            };
      return account ? channelAccountConfigure({ account: String(account.id), keys }) : channelAccountAdd({ unit, name, keys });
    },
    onSuccess: async () => {
      if (account) {
        // The row now shows "configured ····hint"; the form has done its job.
        await refresh();
        onClose?.();
        return;
      }
      setName("");
      setIds({ mch_id: "", appid: "", cert_serial: "", platform_key_id: "", app_id: "" });
      setFiles({});
      setBaseUrl("");
      await refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const fields = channel === "wechat" ? WECHAT_FILES : ALIPAY_FILES;

  const title = account
    ? t(account.configured ? "settings.replaceTitle" : "settings.configureTitle", { name: account.name })
    : t("settings.add");
  return (
    <section className={account ? "configure-keys" : "card"} data-testid={account ? `channel-configure-form-${account.id}` : "channel-add"}>
      <h3>{title}</h3>
      <p className="muted small">{t(account ? "settings.configureHint" : "settings.addHint")}</p>
      <form className="channel-form" onSubmit={submit} data-testid={tid("channel-form")} data-status={add.status}>
        {!account && (
        <div className="row-form">
          <label>
            <span>{t("settings.channel")}</span>
            <select
              data-testid="channel-add-channel"
              value={channel}
              onChange={(e) => {
                setChannel(e.target.value as "wechat" | "alipay");
                setFiles({});
                add.reset();
              }}
            >
              <option value="wechat">{channelLabel(t, "wechat")}</option>
              <option value="alipay">{channelLabel(t, "alipay")}</option>
            </select>
          </label>
          <label>
            <span>{t("settings.unit")}</span>
            <select data-testid="channel-add-unit" value={unit} onChange={(e) => setPicked(e.target.value)}>
              <UnitOptions units={units} />
            </select>
          </label>
          <label className="grow">
            <span>{t("settings.accountName")}</span>
            <input data-testid="channel-add-name" value={name} placeholder={t(channel === "wechat" ? "settings.namePlaceholderWechat" : "settings.namePlaceholderAlipay")} onChange={(e) => setName(e.target.value)} />
          </label>
        </div>
        )}
        {channel === "wechat" ? (
          <div className="row-form">
            <label>
              <span>{t("settings.wechatMchId")}</span>
              <input data-testid={tid("channel-mch-id")} value={ids.mch_id} onChange={setId("mch_id")} size={14} />
            </label>
            <label>
              <span>{t("settings.wechatAppid")}</span>
              <input data-testid={tid("channel-appid")} value={ids.appid} onChange={setId("appid")} size={20} />
            </label>
            <label className="grow">
              <span>{t("settings.wechatCertSerial")}</span>
              <input data-testid={tid("channel-cert-serial")} className="mono" value={ids.cert_serial} onChange={setId("cert_serial")} />
            </label>
            <label className="grow">
              <span>{t("settings.wechatPlatformKeyId")}</span>
              <input data-testid={tid("channel-platform-key-id")} className="mono" value={ids.platform_key_id} placeholder="PUB_KEY_ID_…" onChange={setId("platform_key_id")} />
            </label>
          </div>
        ) : (
          <div className="row-form">
            <label>
              <span>{t("settings.alipayAppId")}</span>
              <input data-testid={tid("channel-app-id")} value={ids.app_id} onChange={setId("app_id")} size={20} />
            </label>
          </div>
        )}
        <div className="key-files">
          {fields.map((field) => (
            <KeyFile
              key={`${channel}-${field}`}
              testId={tid(`key-${field}`)}
              label={t(fileLabel(channel, field))}
              path={files[field]}
              onPicked={(path) => setFiles((v) => ({ ...v, [field]: path }))}
            />
          ))}
        </div>
        <div className="row-form">
          <label className="grow">
            <span>{t("settings.baseUrl")}</span>
            <input data-testid={tid("channel-base-url")} className="mono" value={baseUrl} placeholder={t("settings.baseUrlPlaceholder")} onChange={(e) => setBaseUrl(e.target.value)} />
          </label>
        </div>
        <p className="muted small">{t("settings.keysNote")}</p>
        <ErrorNote error={add.error && asIpcError(add.error)} testId={tid("channel-add-error")} />
        {add.data && !account && (
          <p className="ok" data-testid="channel-added" data-account-id={add.data.id}>
            {t("settings.added", { name: add.data.name, hint: add.data.secret_hint ?? "" })}
          </p>
        )}
        <div className="row-form">
          <button type="submit" className="primary" data-testid={tid("channel-add-submit")} disabled={add.isPending}>
            {add.isPending ? t("settings.saving") : t("settings.save")}
          </button>
          {onClose && (
            <button type="button" data-testid="configure-channel-close" onClick={onClose}>
              {t("settings.configureCancel")}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

/** One key file: picked in the native dialog (the e2e runs type its path instead). Only the
 *  path is kept here; the file is read on the Rust side when the account is saved. */
function KeyFile({ testId, label, path, onPicked }: { testId: string; label: string; path?: string; onPicked: (path: string) => void }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const [testPath, setTestPath] = useState("");
  const pick = useMutation({
    mutationFn: (typed?: string) => (typed ? e2eUseFile(typed) : channelKeyPick(t("settings.pickTitle", { what: label }))),
    onSuccess: (chosen) => chosen && onPicked(chosen),
  });
  return (
    <div className="key-file" data-testid={testId}>
      <span className="key-label">{label}</span>
      <div className="row-form">
        <button type="button" data-testid={`${testId}-pick`} disabled={pick.isPending} onClick={() => pick.mutate(undefined)}>
          {t("settings.pickFile")}
        </button>
        <code className="file" data-testid={`${testId}-file`} title={path}>
          {path ? fileName(path) : t("settings.noFile")}
        </code>
      </div>
      {info.data?.e2e && (
        <div className="row-form test-hook">
          <label>
            <span>{t("import.testPath")}</span>
            <input data-testid={`${testId}-path`} value={testPath} onChange={(e) => setTestPath(e.target.value)} size={40} />
          </label>
          <button type="button" data-testid={`${testId}-use`} onClick={() => testPath.trim() && pick.mutate(testPath.trim())}>
            {t("import.testUse")}
          </button>
        </div>
      )}
      <ErrorNote error={pick.error && asIpcError(pick.error)} testId={`${testId}-error`} />
    </div>
  );
}

/** The last part of a path: the window shows which file was picked, not where it lives. */
function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
