//! One JSON value per line, both ways. Lines are bounded so a runaway peer cannot exhaust
//! memory; a line that is not a message is a protocol error that quotes it.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::msg::Message;
use super::protocol::ProtocolError;

/// The longest line accepted (a turn's items can be large, but not this large).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// Reads messages from a buffered reader, counting lines for error messages.
pub(crate) struct Reader<R> {
    inner: R,
    line: u64,
    buf: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> Reader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Reader {
            inner,
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The next message; `Ok(None)` at end of stream. Blank lines are skipped.
    pub(crate) async fn read(&mut self) -> Result<Option<Message>, super::AppServerError> {
        loop {
            self.buf.clear();
            let n = (&mut self.inner)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut self.buf)
                .await?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.len() > MAX_LINE {
                return Err(ProtocolError::TooLong { line: self.line }.into());
            }
            let text = String::from_utf8_lossy(&self.buf);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let parsed = serde_json::from_str(text)
                .ok()
                .and_then(Message::from_value);
            return match parsed {
                Some(m) => Ok(Some(m)),
                None => Err(ProtocolError::Malformed {
                    line: self.line,
                    excerpt: text.chars().take(120).collect(),
                }
                .into()),
            };
        }
    }
}

/// Write one message as one line and flush it.
pub(crate) async fn write<W: AsyncWrite + Unpin>(w: &mut W, m: &Message) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&m.to_value()).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line).await?;
    w.flush().await
}
