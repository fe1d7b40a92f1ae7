//! A loopback server that answers with an endless body, or declares a huge one: FeeDesk reads
//! at most the limit ([`feedesk::channels::MAX_ANSWER_BYTES`] for API answers) and says so,
//! instead of buffering whatever a server sends.

use feedesk::channels::{self, BodyError, MAX_ANSWER_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves one request: `head` (the status line and headers), then `chunks` of 64 KB each as
/// chunked transfer encoding (`None`: until the client hangs up).
async fn serve(head: &'static str, chunks: Option<usize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/answer",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
        chunk.extend(std::iter::repeat_n(b'x', 64 * 1024));
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0;
        while chunks.is_none_or(|n| sent < n) {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
            sent += 1;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    url
}

async fn get(url: &str) -> reqwest::Response {
    channels::http_client(url)
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
}

/// The test process's peak resident memory, in KiB (Linux).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_limit() {
    let url = serve(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        None,
    )
    .await;
    let err = channels::read_capped(get(&url).await, MAX_ANSWER_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, BodyError::TooLarge(n) if n == MAX_ANSWER_BYTES));
    let message = err.channel("WeChat Pay's answer").to_string();
    assert!(message.contains("larger than 1 MB"), "{message}");
    assert!(peak_kib() < 300 * 1024, "peak {} KiB", peak_kib());
}

#[tokio::test]
async fn a_declared_huge_length_is_refused_before_reading() {
    let url = serve(
        "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n",
        Some(1),
    )
    .await;
    let err = channels::read_capped(get(&url).await, MAX_ANSWER_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, BodyError::TooLarge(_)));
}

#[tokio::test]
async fn an_answer_within_the_limit_is_read_whole() {
    let url = serve(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        Some(3),
    )
    .await;
    let body = channels::read_capped(get(&url).await, MAX_ANSWER_BYTES)
        .await
        .unwrap();
    assert_eq!(body.len(), 3 * 64 * 1024);
}
