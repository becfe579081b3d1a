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

pub(super) async fn a_photo_replaces_the_last_and_survives_profile_saves(s: &SqlStore) {
    let (new, _) = new_account("phil@example.com", "phil");
    s.create_account(&new).await.unwrap();
    let id = new.account.id;
    // A photo before any profile was saved makes the profile.
    let first = Uuid::now_v7();
    s.save_photo(id, first, b"large-1", b"small-1", t0())
        .await
        .unwrap();
    assert_eq!(s.profile(id).await.unwrap().unwrap().photo_id, Some(first));
    let got = s.photo(first).await.unwrap().unwrap();
    assert_eq!(
        (
            got.account_id,
            got.public,
            got.large.as_slice(),
            got.small.as_slice()
        ),
        (id, false, &b"large-1"[..], &b"small-1"[..])
    );
    let second = Uuid::now_v7();
    s.save_photo(id, second, b"large-2", b"small-2", t0())
        .await
        .unwrap();
    assert!(
        s.photo(first).await.unwrap().is_none(),
        "the old photo is gone"
    );
    let mut p = s.profile(id).await.unwrap().unwrap();
    p.public = true;
    p.photo_id = None;
    s.save_profile(&p).await.unwrap();
    assert_eq!(
        s.profile(id).await.unwrap().unwrap().photo_id,
        Some(second),
        "kept by a profile save"
    );
    assert!(s.photo(second).await.unwrap().unwrap().public);
    assert!(s.delete_photo(id).await.unwrap());
    assert!(!s.delete_photo(id).await.unwrap());
    assert_eq!(s.profile(id).await.unwrap().unwrap().photo_id, None);
    assert!(s.photo(second).await.unwrap().is_none());
}
