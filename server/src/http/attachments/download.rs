//! Downloads: `GET /api/v1/attachments/{id}`, answered only to whoever may read the message
//! that names the document, always as an attachment that is never cached or rendered.

use super::*;

/// `GET /api/v1/attachments/{id}`: the document, to whoever may read the message naming it;
/// anyone else gets the same 404 as for a document that does not exist.
pub(super) async fn download(
    shared: &Shared,
    id: &str,
    caller: Option<Caller>,
) -> warp::reply::Response {
    let (ctx, exchange) = shared;
    let Some(caller) = caller else {
        return no_credentials();
    };
    let not_found = || json_error(StatusCode::NOT_FOUND, "not_found", "no such document");
    let document = match ctx.storage.attachment(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::warn!(error = %e, "download: the document could not be read");
            return unavailable("the document could not be read; try again");
        }
    };
    let conversation = document.conversation.clone();
    let Some(seq) = message_naming(ctx, &document).await else {
        return not_found();
    };
    let may_read = match &caller {
        Caller::Client(token) => ctx.auth.check_resume(&conversation, token),
        Caller::Professional(_) => {
            let (endpoint, hello) = caller.hello(&conversation);
            let read = bridge::encode(ConsoleFrame::History(HistoryRequest {
                conversation: conversation.clone(),
                before_seq: Some(seq + 1),
                limit: Some(1),
                reason: None,
            }));
            match bridge::ask(ctx, exchange, endpoint, hello, read).await {
                Answer::Reply(frame) => match *frame {
                    ServerFrame::History(h) => h.events.iter().any(|e| {
                        matches!(e, Event::Message(m) if m.attachments.iter().any(|a| a.id == id))
                    }),
                    _ => false,
                },
                Answer::Unauthorized => {
                    return json_error(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "the token was refused",
                    )
                }
                Answer::TooLarge => false,
                Answer::Unavailable(why) => return unavailable(why),
            }
        }
    };
    if !may_read {
        return not_found();
    }
    served(document)
}

/// The seq of the message that names `document` (the one sent with its `client_msg_id`).
async fn message_naming(ctx: &ServerCtx, document: &Attachment) -> Option<u64> {
    let ids = ctx
        .storage
        .client_msg_ids(&document.conversation)
        .await
        .ok()?;
    let seq = ids
        .into_iter()
        .find(|(id, _, _)| *id == document.client_msg_id)
        .map(|(_, seq, _)| seq)?;
    let message = message_at(ctx, &document.conversation, seq).await?;
    message
        .attachments
        .iter()
        .any(|a| a.id == document.id)
        .then_some(seq)
}

/// The document as a download: never rendered by the browser (`attachment`, `nosniff`, a
/// sandboxing CSP), never kept by a browser or proxy cache.
fn served(document: Attachment) -> warp::reply::Response {
    let disposition = content_disposition(&document.name);
    let mut response = warp::reply::Response::new(document.data.into());
    let headers = response.headers_mut();
    let pairs = [
        ("content-type", document.mime.as_str()),
        ("content-disposition", disposition.as_str()),
        ("cache-control", "no-store, private"),
        ("pragma", "no-cache"),
        ("x-content-type-options", "nosniff"),
        (
            "content-security-policy",
            "default-src 'none'; sandbox; frame-ancestors 'none'",
        ),
        ("cross-origin-resource-policy", "cross-origin"),
    ];
    for (name, value) in pairs {
        if let Ok(value) = warp::http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

/// `attachment` with an ASCII fallback name and the exact name RFC 6266/5987-encoded.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_names_the_file_safely() {
        assert_eq!(
            content_disposition("lab results.pdf"),
            "attachment; filename=\"lab results.pdf\"; filename*=UTF-8''lab%20results.pdf"
        );
        assert_eq!(
            content_disposition("häät \"x\".pdf"),
            "attachment; filename=\"h__t x.pdf\"; filename*=UTF-8''h%C3%A4%C3%A4t%20%22x%22.pdf"
        );
    }
}
