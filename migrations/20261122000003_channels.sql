-- Payment channels: what FeeDesk needs to call a collection account's channel, apart from its
-- secrets. The secrets (private keys, the APIv3 key, the platform/Alipay public key) live only
-- in the OS keyring, under collection_accounts.secret_ref; nothing here is secret.
-- Forward-only: never edit this file once landed.

CREATE TABLE channel_settings (
    account_id       INTEGER PRIMARY KEY REFERENCES collection_accounts (id),
    -- WeChat Pay: the merchant id (商户号); Alipay: the app id.
    merchant_id      TEXT    NOT NULL,
    -- WeChat Pay: the AppID bound to the merchant.
    appid            TEXT,
    -- WeChat Pay: the merchant API certificate's serial.
    cert_serial      TEXT,
    -- WeChat Pay: the platform public key id (PUB_KEY_ID_...) or platform certificate serial.
    platform_key_id  TEXT,
    -- The channel's API: production by default, or the sandbox on loopback.
    base_url         TEXT    NOT NULL,
    -- The last 4 characters shown once saved ("configured ····1a2b"); never the secret.
    secret_hint      TEXT    NOT NULL,
    configured_at    TEXT    NOT NULL
) WITHOUT ROWID;
