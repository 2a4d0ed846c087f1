//! Identity's demo data: one verified user for every persona, all with the password [`DEMO_PASSWORD`].
//! The logins are listed in `docs/identity.md`.

use platform::demo::{Dataset, LoadFuture};
use sqlx::PgConnection;

use crate::{password, service};

pub const DEMO_PASSWORD: &str = "backline-demo";

/// `(username, display name, roles)`; each email is `<username>@demo.backline.test`.
pub const DEMO_USERS: &[(&str, &str, &[&str])] = &[
    ("admin", "Ada Admin", &["admin"]),
    ("staff", "Sam Support", &["staff"]),
    ("nova", "Nova Rae", &["artist"]),
    ("midnight_manager", "Mo Manager", &["band_manager"]),
    ("promo_pete", "Pete Promoter", &["promoter", "organizer"]),
    ("olga_events", "Olga Organizer", &["organizer"]),
    ("velvet_room", "Vera Venue", &["venue_manager"]),
    ("lumen_records", "Lumen Records", &["label"]),
    ("acme_brand", "Acme Brand Studio", &["client"]),
    ("fiona_design", "Fiona Freelance", &["freelancer"]),
    ("cara_creates", "Cara Creator", &["creator"]),
    ("sunny_sponsor", "Sunny Drinks", &["sponsor"]),
    ("fan_felix", "Felix Fan", &["fan"]),
];

pub fn dataset() -> Dataset {
    Dataset { name: "identity", version: 1, load }
}

fn load(conn: &mut PgConnection) -> LoadFuture<'_> {
    Box::pin(async move {
        let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
        let now = chrono::Utc::now();
        for (username, display_name, roles) in DEMO_USERS {
            let email = format!("{username}@demo.backline.test");
            service::create_verified_user(conn, &email, username, display_name, &hash, roles, now).await?;
        }
        Ok(())
    })
}
