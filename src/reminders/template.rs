//! The words of a reminder: one text per tone (gentle, firm, final notice) with variables
//! filled in, and the class-group message that lists the unpaid with their names masked.
//!
//! Variables: `{member}`, `{guardian}`, `{amount}`, `{due_date}`, `{days_overdue}`,
//! `{payment_link}`, `{store}`, `{phone}`, `{fee}`.

use serde_json::json;

use super::policy::{Policy, Tone};

/// What a personal reminder talks about.
#[derive(Debug, Clone)]
pub struct BillFacts {
    pub bill_id: i64,
    pub member: String,
    pub guardian: Option<String>,
    pub fee: String,
    /// What is still owed, e.g. `1200.00`.
    pub amount: String,
    pub due_date: String,
    pub days_overdue: i64,
    pub store: String,
}

/// A rendered personal message.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    /// The SMS template's variables.
    pub sms_params: serde_json::Value,
}

fn text_for(tone: Tone) -> (&'static str, &'static str) {
    match tone {
        Tone::Gentle => (
            "【{store}】{member}的{fee}缴费提醒",
            "{guardian}您好：{member}的{fee}（¥{amount}）已于{due_date}到期，目前尚未缴清。\
             如已安排请忽略本提醒。缴费方式：{payment_link}。如有疑问请致电{phone}。",
        ),
        Tone::Firm => (
            "【{store}】{member}的{fee}已逾期{days_overdue}天",
            "{guardian}您好：{member}的{fee}（¥{amount}）已逾期{days_overdue}天（到期日{due_date}）。\
             请尽快缴费：{payment_link}。如有困难请致电{phone}与我们商量。",
        ),
        Tone::Final => (
            "【{store}】最后提醒：{member}的{fee}逾期未缴",
            "{guardian}您好：这是关于{member}的{fee}（¥{amount}，到期日{due_date}，已逾期{days_overdue}天）\
             的最后一次提醒。请于近日缴清：{payment_link}。逾期仍未缴费的，校区老师将与您电话联系。\
             咨询电话{phone}。",
        ),
    }
}

/// Where to pay: the policy's link with `{bill}` filled in, or words sending the guardian to
/// the store's front desk with the bill number (a channel QR code expires in two hours, too
/// soon for a message read days later).
pub fn payment_link(policy: &Policy, bill_id: i64) -> String {
    match &policy.payment_link {
        Some(link) => link.replace("{bill}", &bill_id.to_string()),
        None => format!("到校区前台扫码缴费（账单号 {bill_id}）"),
    }
}

/// Fills `{name}` placeholders in one pass over the template: a value is copied as it is,
/// never searched again, so a member named `{payment_link}` stays that name. An unknown
/// `{word}` is left as written.
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            vars.iter()
                .find(|(name, _)| *name == &after[..close])
                .map(|(_, value)| (close, value))
        });
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The personal message of `tone` about `facts`.
pub fn render(policy: &Policy, tone: Tone, facts: &BillFacts) -> Rendered {
    let link = payment_link(policy, facts.bill_id);
    let phone = policy
        .contact_phone
        .clone()
        .unwrap_or_else(|| "校区前台".into());
    let guardian = facts
        .guardian
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| "家长".into());
    let vars = [
        ("member", facts.member.clone()),
        ("guardian", guardian),
        ("fee", facts.fee.clone()),
        ("amount", facts.amount.clone()),
        ("due_date", facts.due_date.clone()),
        ("days_overdue", facts.days_overdue.to_string()),
        ("payment_link", link.clone()),
        ("store", facts.store.clone()),
        ("phone", phone),
    ];
    let (subject, body) = text_for(tone);
    Rendered {
        subject: fill(subject, &vars),
        body: fill(body, &vars),
        sms_params: json!({
            "member": facts.member, "fee": facts.fee, "amount": facts.amount,
            "due_date": facts.due_date, "days": facts.days_overdue.to_string(), "link": link,
        }),
    }
}

/// A name as a group chat may show it: the family name and stars (`张三` -> `张*`,
/// `欧阳娜娜` -> `欧***`, `Li Lei` -> `L*****`).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    match chars.split_first() {
        None => String::new(),
        Some((first, rest)) => {
            let mut out = first.to_string();
            out.push_str(&"*".repeat(rest.len().max(1)));
            out
        }
    }
}

/// One line of a group message: a masked name and the member number's last digits, so a
/// parent recognises their child and nobody else learns who owes what.
#[derive(Debug, Clone)]
pub struct GroupLine {
    pub member: String,
    pub member_no: String,
}

/// The class group's message for one tier.
pub fn render_group(
    policy: &Policy,
    tone: Tone,
    class: &str,
    fee: &str,
    lines: &[GroupLine],
) -> String {
    let mut names: Vec<String> = lines
        .iter()
        .map(|l| {
            let tail: String = l
                .member_no
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{}(尾号{tail})", mask_name(&l.member))
        })
        .collect();
    names.sort();
    let lead = match tone {
        Tone::Gentle => "温馨提醒",
        Tone::Firm => "缴费提醒",
        Tone::Final => "最后提醒",
    };
    let link = match &policy.payment_link {
        Some(link) => link
            .replace("{bill}", "")
            .trim_end_matches(['=', '/', '?'])
            .to_string(),
        None => "私信老师或到校区前台扫码缴费".into(),
    };
    let phone = policy
        .contact_phone
        .as_deref()
        .map(|p| format!("，咨询电话{p}"))
        .unwrap_or_default();
    format!(
        "【{lead}】{class}：以下{}位同学的{fee}尚未缴清：{}。缴费方式：{link}{phone}。已缴请忽略，谢谢！",
        names.len(),
        names.join("、")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_for_groups() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name("Li Lei"), "L****");
    }

    #[test]
    fn variables_are_filled() {
        let policy = Policy {
            payment_link: Some("https://pay.example.cn/b/{bill}".into()),
            contact_phone: Some("021-5555".into()),
            ..Policy::default_policy()
        };
        let r = render(
            &policy,
            Tone::Firm,
            &BillFacts {
                bill_id: 42,
                member: "张三".into(),
                guardian: Some("张父".into()),
                fee: "学费".into(),
                amount: "3000.00".into(),
                due_date: "2026-09-10".into(),
                days_overdue: 7,
                store: "徐汇校区".into(),
            },
        );
        assert!(r.subject.contains("逾期7天"), "{}", r.subject);
        assert!(r.body.contains("https://pay.example.cn/b/42"), "{}", r.body);
        assert!(r.body.contains("¥3000.00") && r.body.contains("021-5555"));
        assert!(!r.body.contains('{'), "{}", r.body);
    }

    #[test]
    fn placeholders_inside_names_are_never_expanded() {
        let policy = Policy {
            payment_link: Some("https://pay.example.cn/b/{bill}".into()),
            contact_phone: Some("021-5555".into()),
            ..Policy::default_policy()
        };
        let r = render(
            &policy,
            Tone::Gentle,
            &BillFacts {
                bill_id: 42,
                member: "{payment_link}{amount}".into(),
                guardian: Some("{guardian}{phone}{member".into()),
                fee: "学费{fee}".into(),
                amount: "3000.00".into(),
                due_date: "2026-09-10".into(),
                days_overdue: 7,
                store: "{store}".into(),
            },
        );
        assert!(
            r.body.starts_with(
                "{guardian}{phone}{member您好：{payment_link}{amount}的学费{fee}（¥3000.00）"
            ),
            "{}",
            r.body
        );
        assert_eq!(
            r.subject,
            "【{store}】{payment_link}{amount}的学费{fee}缴费提醒"
        );
        assert_eq!(r.body.matches("https://pay.example.cn/b/42").count(), 1);
        assert_eq!(
            fill("{a} {b} {c} {", &[("a", "{b}".into()), ("b", "x".into())]),
            "{b} x {c} {"
        );
    }

    #[test]
    fn group_message_masks_and_counts() {
        let text = render_group(
            &Policy::default_policy(),
            Tone::Gentle,
            "钢琴A班",
            "学费",
            &[
                GroupLine {
                    member: "张三".into(),
                    member_no: "S0012".into(),
                },
                GroupLine {
                    member: "李四四".into(),
                    member_no: "S0034".into(),
                },
            ],
        );
        assert!(text.contains("2位同学"), "{text}");
        assert!(
            text.contains("张*(尾号12)") && text.contains("李**(尾号34)"),
            "{text}"
        );
        assert!(!text.contains("张三") && !text.contains("李四四"));
    }
}
