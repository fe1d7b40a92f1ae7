// Typed wrappers for src-tauri/src/commands/channels.rs: WeChat Pay and Alipay accounts.
// No secret crosses IPC: the user picks each key file in the native dialog (channelKeyPick),
// the window sends back only its path, and the Rust side reads it and puts the keys in the OS
// keyring. Afterwards a secret shows only as its fingerprint (`secret_hint`).
import type { AccountTest } from "./bindings/AccountTest";
import type { ChannelAccountForm } from "./bindings/ChannelAccountForm";
import type { ChannelAccount } from "./bindings/ChannelAccount";
import type { ChannelConfigureForm } from "./bindings/ChannelConfigureForm";
import type { ChannelKeysForm } from "./bindings/ChannelKeysForm";
import { call } from "./invoke";

export type { AccountTest, ChannelAccountForm, ChannelAccount, ChannelConfigureForm, ChannelKeysForm };

/** Every WeChat Pay and Alipay account with its settings (never its secrets). */
export const channelAccountList = () => call<ChannelAccount[]>("channel_account_list");
/** Opens the native file dialog for a key file; its path, or null when the user cancels. */
export const channelKeyPick = (title: string) => call<string | null>("channel_key_pick", { title });
/** Adds the account: the key files are read on the Rust side, the keys go to the OS keyring. */
export const channelAccountAdd = (form: ChannelAccountForm) => call<ChannelAccount>("channel_account_add", { form });
/** Sets, or replaces, the keys of an existing account (named by id or name); same key files
 *  as channelAccountAdd, read on the Rust side. The old keyring item is removed afterwards. */
export const channelAccountConfigure = (form: ChannelConfigureForm) =>
  call<ChannelAccount>("channel_account_configure", { form });
/** A signed query the channel must answer with a verified signature; moves no money. */
export const channelAccountTest = (account: string) => call<AccountTest>("channel_account_test", { account });
