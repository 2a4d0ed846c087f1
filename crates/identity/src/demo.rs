//! Identity's demo data: one verified user for every persona, all with the password [`DEMO_PASSWORD`],
//! and organizations with members and teams. The logins are listed in `docs/identity.md`.

use platform::demo::{Dataset, DemoEnv, LoadFuture};
use sqlx::PgConnection;

use crate::model::{OrgId, OrgKind, TeamId};
use crate::organizations::repo::{self as orgs, OrgRow, TeamRow};
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

fn load<'c>(conn: &'c mut PgConnection, _env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
        let now = chrono::Utc::now();
        let mut ids = std::collections::HashMap::new();
        for (username, display_name, roles) in DEMO_USERS {
            let email = format!("{username}@demo.backline.test");
            let id = service::create_verified_user(conn, &email, username, display_name, &hash, roles, now).await?;
            ids.insert(*username, id);
        }
        let user = |name: &str| ids[name];
        // (slug, name, kind, parent slug, owner, [(member, role)], [(team, [members])])
        type Demo<'a> = (
            &'a str,
            &'a str,
            OrgKind,
            Option<&'a str>,
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a [&'a str])],
        );
        let demo: &[Demo<'_>] = &[
            (
                "lumen-records",
                "Lumen Records",
                OrgKind::Label,
                None,
                "lumen_records",
                &[("nova", "member"), ("midnight_manager", "admin"), ("staff", "viewer")],
                &[("A&R", &["lumen_records", "midnight_manager"]), ("Artists", &["nova"])],
            ),
            ("lumen-jazz", "Lumen Jazz", OrgKind::SubLabel, Some("lumen-records"), "lumen_records", &[], &[]),
            (
                "velvet-room",
                "The Velvet Room",
                OrgKind::Venue,
                None,
                "velvet_room",
                &[("olga_events", "member")],
                &[("Door staff", &["olga_events"])],
            ),
            ("pete-presents", "Pete Presents", OrgKind::Promoter, None, "promo_pete", &[("olga_events", "admin")], &[]),
            (
                "acme-brand-studio",
                "Acme Brand Studio",
                OrgKind::Company,
                None,
                "acme_brand",
                &[("fiona_design", "member")],
                &[("Campaigns", &["acme_brand", "fiona_design"])],
            ),
        ];
        let mut slugs: std::collections::HashMap<&str, OrgId> = std::collections::HashMap::new();
        for (slug, name, kind, parent, owner, members, teams) in demo {
            let org = OrgRow {
                id: OrgId::new(),
                slug: (*slug).to_owned(),
                name: (*name).to_owned(),
                kind: *kind,
                parent_id: parent.map(|p| slugs[p]),
                description: format!("{name}: demo organization."),
                website: None,
                email: None,
                country: Some("DE".into()),
                city: Some("Berlin".into()),
                settings: serde_json::json!({}),
                created_at: now,
            };
            orgs::insert_org(conn, &org, user(owner)).await?;
            orgs::add_member(conn, org.id, user(owner), "owner", now).await?;
            for (member, role) in *members {
                orgs::add_member(conn, org.id, user(member), role, now).await?;
            }
            for (team_name, team_members) in *teams {
                let team = TeamRow {
                    id: TeamId::new(),
                    org_id: org.id,
                    name: (*team_name).to_owned(),
                    description: String::new(),
                    member_count: 0,
                    created_at: now,
                };
                orgs::insert_team(conn, &team).await?;
                for member in *team_members {
                    orgs::add_team_member(conn, org.id, team.id, user(member), now).await?;
                }
            }
            slugs.insert(slug, org.id);
        }
        Ok(())
    })
}
