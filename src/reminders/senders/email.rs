//! Email over SMTP with lettre: STARTTLS, TLS or a plain connection, a login when the server
//! needs one (the password comes from the keyring), plain-text UTF-8 messages.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Outgoing, SendFailure, Sent};
use crate::reminders::notify::{ChannelConfig, SmtpSecurity};
use crate::secrets::Sensitive;
use crate::{Error, Result};

pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The whole exchange's limit: lettre's own timeout covers each network step, not a
    /// server that stops answering mid-dialogue.
    timeout: Duration,
}

impl EmailSender {
    pub fn new(
        config: &ChannelConfig,
        password: Option<Sensitive<String>>,
        timeout: Duration,
    ) -> Result<EmailSender> {
        let ChannelConfig::Email {
            host,
            port,
            security,
            from,
            username,
        } = config
        else {
            return Err(Error::Internal("not email settings".into()));
        };
        // A channel configured before the rule: refused here too.
        crate::reminders::notify::check_plain_smtp(*security, host)?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = match security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host.as_str(),
            )),
        }
        .map_err(|e| Error::Validation(format!("cannot use SMTP server {host}: {e}")))?;
        let mut builder = builder.port(*port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (username, password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.into_inner()));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| Error::Validation(format!("the sender address '{from}' is not valid")))?;
        Ok(EmailSender {
            transport: builder.build(),
            from,
            timeout,
        })
    }

    pub async fn send(&self, msg: &Outgoing) -> Result<Sent, SendFailure> {
        let to = msg
            .recipient
            .as_deref()
            .ok_or_else(|| SendFailure::Permanent("no email address".into()))?;
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendFailure::Permanent(format!("'{to}' is not an email address")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(msg.subject.clone().unwrap_or_default())
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
            .map_err(|e| SendFailure::Permanent(format!("the message cannot be built: {e}")))?;
        let sent = tokio::time::timeout(self.timeout * 3, self.transport.send(email))
            .await
            .map_err(|_| {
                SendFailure::Uncertain(
                    "the mail server stopped answering; the message may have been delivered".into(),
                )
            })?;
        match sent {
            Ok(response) => Ok(response.message().next().map(str::to_string)),
            Err(e) if e.is_permanent() => Err(SendFailure::Permanent(format!(
                "the mail server refused the message: {e}"
            ))),
            Err(e) if e.is_transient() => Err(SendFailure::Retry {
                message: format!("the mail server deferred the message: {e}"),
                after: None,
            }),
            // The connection was there and went quiet: the server may have taken the message.
            Err(e) if e.is_timeout() => Err(SendFailure::Uncertain(format!(
                "the mail server did not answer in time; the message may have been delivered ({e})"
            ))),
            Err(e) => Err(SendFailure::Retry {
                message: format!("could not reach the mail server: {e}"),
                after: None,
            }),
        }
    }
}
