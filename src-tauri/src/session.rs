//! Who is signed in: the user id read from the token's claims. The app cannot verify the
//! signature (only the services hold the secret); it only needs `sub` to pick the inbox.

use base64::Engine;

/// The `sub` of a JWT, or `None` if the token is not a JWT with a subject.
pub fn user_of(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_subject_of_a_jwt() {
        // header {"alg":"HS256"} . {"sub":"alice","exp":1} . signature
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2ln";
        assert_eq!(super::user_of(token).as_deref(), Some("alice"));
        assert_eq!(super::user_of("garbage"), None);
    }
}
