//! Profiles: saved whole, replaced whole, public only when marked so.

use steward_core::ports::ProfileStore;
use steward_core::profile::Profile;

use super::*;

pub(super) async fn profiles_are_replaced_whole_and_public_only_when_marked(s: &SqlStore) {
    let (new, _) = new_account("pia@example.com", "pia");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    assert_eq!(s.profile(id).await.unwrap(), None);
    let mut p = Profile {
        account_id: id,
        name: Some("Pia".into()),
        about: Some("line one\nline two".into()),
        github: Some("https://github.com/pia".into()),
        public: false,
        updated_at: Some(t0()),
        ..Profile::default()
    };
    s.save_profile(&p).await.unwrap();
    assert_eq!(s.profile(id).await.unwrap(), Some(p.clone()));
    assert_eq!(s.public_profile("pia").await.unwrap(), None, "private");
    p.public = true;
    p.github = None;
    p.updated_at = Some(t0() + Duration::minutes(1));
    s.save_profile(&p).await.unwrap();
    assert_eq!(s.profile(id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        s.public_profile("pia").await.unwrap(),
        Some(("pia".to_owned(), p))
    );
    assert_eq!(s.public_profile("nobody").await.unwrap(), None);
}
