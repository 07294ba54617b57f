//! The SQL of professionals' canned responses (table `canned_responses`): written by the
//! writer thread inside its savepoints, read on the read pool.

use crate::storage::{PersonalCanned, StorageError};
use console_protocol::ProfessionalId;
use rusqlite::{params, Connection};

/// Inserts `r`, or with `replace` updates the row with its id that belongs to its professional.
pub(super) fn save(
    conn: &Connection,
    r: &PersonalCanned,
    replace: bool,
) -> Result<(), StorageError> {
    // Both statements take the same parameters; an update must hit the professional's own row.
    let sql = if replace {
        "UPDATE canned_responses SET code = ?3, title = ?4, lang = ?5, body = ?6, \
         updated_at_ms = ?7 WHERE id = ?1 AND professional = ?2"
    } else {
        "INSERT INTO canned_responses (id, professional, code, title, lang, body, \
         updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    };
    let changed = conn.prepare_cached(sql)?.execute(params![
        r.id,
        r.professional.as_str(),
        r.code,
        r.title,
        r.lang,
        r.body,
        r.updated_at_ms
    ])?;
    if changed == 0 {
        return Err(StorageError::NotFound(format!("canned response {}", r.id)));
    }
    Ok(())
}

/// Deletes `id` if it belongs to `professional`.
pub(super) fn delete(
    conn: &Connection,
    id: &str,
    professional: &ProfessionalId,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached("DELETE FROM canned_responses WHERE id = ?1 AND professional = ?2")?
        .execute(params![id, professional.as_str()])?;
    if changed == 0 {
        return Err(StorageError::NotFound(format!("canned response {id}")));
    }
    Ok(())
}

/// `professional`'s canned responses by code and language.
pub(super) fn list(
    conn: &Connection,
    professional: &ProfessionalId,
) -> Result<Vec<PersonalCanned>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, code, title, lang, body, updated_at_ms FROM canned_responses \
         WHERE professional = ?1 ORDER BY code, lang, id",
    )?;
    let mut rows = stmt.query([professional.as_str()])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(PersonalCanned {
            id: row.get(0)?,
            professional: professional.clone(),
            code: row.get(1)?,
            title: row.get(2)?,
            lang: row.get(3)?,
            body: row.get(4)?,
            updated_at_ms: row.get(5)?,
        });
    }
    Ok(found)
}
