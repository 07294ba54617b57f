//! The cluster's shared secrets: the first node to start creates each one, every node reads
//! the same value, so a token one node signs verifies on every other.

use super::{ClusterDb, ClusterError};

/// The secret named `name`, created with `fresh` when the cluster has none yet.
pub async fn shared_secret(
    db: &ClusterDb,
    name: &str,
    fresh: &str,
) -> Result<String, ClusterError> {
    let client = db.connect().await?;
    client
        .execute(
            "INSERT INTO cluster_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &fresh],
        )
        .await?;
    let row = client
        .query_one(
            "SELECT value FROM cluster_secrets WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok(row.get(0))
}
