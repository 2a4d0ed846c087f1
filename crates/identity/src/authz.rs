//! Authorization: the permission catalog, what each role grants, and the one function that decides every
//! check. It denies by default.
//!
//! A permission is `resource.action` with a scope: `own` (objects the caller owns), `organization`
//! (objects of an organization where the caller holds the role), or `all`. Global roles (admin, staff and
//! the personas) grant permissions everywhere; organization roles grant them within their organization.
//! An API key acts as its user, further restricted to its scopes.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::IdentityError;

/// How far a grant reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    Own,
    Organization,
    All,
}

/// Every permission Backline checks, with what it allows.
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("profile.read", "Read your own account"),
    ("profile.update", "Change your own account"),
    ("sessions.manage", "List and end your own sessions"),
    ("api_keys.manage", "Create, list and revoke your own API keys"),
    ("users.read", "List and read user accounts"),
    ("users.manage", "Suspend, reactivate and approve user accounts"),
    ("security_events.read", "Read security events"),
    ("audit.read", "Read the audit log"),
    ("organizations.create", "Create organizations"),
    ("organizations.read", "Read an organization"),
    ("organizations.update", "Change an organization's profile and settings"),
    ("members.read", "List an organization's members"),
    ("members.manage", "Invite, remove and change the role of members"),
    ("teams.manage", "Create teams and change their members"),
    ("permission_templates.manage", "Manage permission templates"),
    ("notifications.read", "Read and mark your own notifications"),
    ("notification_templates.manage", "Edit the templates of notifications"),
    ("webhooks.manage", "Manage an organization's outgoing webhooks"),
    ("jobs.manage", "See the job queue and retry dead jobs"),
    ("ledger.read", "Read ledger accounts and statements"),
    ("ledger.adjust", "Post manual ledger entries and reversals"),
    ("events.manage", "Create, edit, publish and cancel events and their ticket tiers; refund their tickets"),
    ("tickets.manage", "Buy, transfer and resell your own tickets"),
    ("tickets.checkin", "Scan tickets at an event's door and see its attendance"),
    ("bookings.manage", "Keep artist, venue and promoter profiles; offer, negotiate and accept bookings"),
    ("bookings.admin", "Set artist categories, verify promoters, review contracts, resolve disputes"),
    ("catalog.manage", "Keep a label's catalog: releases, tracks, credits, identifiers, distribution"),
    ("catalog.review", "Review submitted releases"),
    ("stores.manage", "Keep the registry of stores releases are delivered to"),
    ("tasks.manage", "Buy a company's credits, commission its creative tasks, review and approve their deliveries"),
    ("tasks.admin", "Approve freelancers, review deliveries, assign tasks by hand, edit the assignment configuration"),
    ("projects.manage", "Create an organization's projects and manage every one of them: details, members, channels"),
    ("support.request", "Open support tickets and follow your own"),
    ("support.agent", "Work the support desk: every ticket, replies, internal notes, assignment, canned replies"),
    ("support.admin", "Set the support desk's first-response and resolution targets"),
];

/// What a global role grants.
pub fn global_grants(role: &str) -> &'static [(&'static str, Reach)] {
    const SELF_SERVICE: &[(&str, Reach)] = &[
        ("profile.read", Reach::Own),
        ("profile.update", Reach::Own),
        ("sessions.manage", Reach::Own),
        ("api_keys.manage", Reach::Own),
        ("organizations.create", Reach::Own),
        ("notifications.read", Reach::Own),
        ("ledger.read", Reach::Own),
        ("events.manage", Reach::Own),
        ("tickets.manage", Reach::Own),
        ("bookings.manage", Reach::Own),
        ("support.request", Reach::Own),
    ];
    match role {
        "admin" => &[
            ("users.read", Reach::All),
            ("users.manage", Reach::All),
            ("security_events.read", Reach::All),
            ("audit.read", Reach::All),
            ("organizations.read", Reach::All),
            ("organizations.update", Reach::All),
            ("members.read", Reach::All),
            ("members.manage", Reach::All),
            ("teams.manage", Reach::All),
            ("permission_templates.manage", Reach::All),
            ("notification_templates.manage", Reach::All),
            ("webhooks.manage", Reach::All),
            ("jobs.manage", Reach::All),
            ("ledger.read", Reach::All),
            ("ledger.adjust", Reach::All),
            ("events.manage", Reach::All),
            ("tickets.manage", Reach::All),
            ("tickets.checkin", Reach::All),
            ("bookings.manage", Reach::All),
            ("bookings.admin", Reach::All),
            ("catalog.manage", Reach::All),
            ("catalog.review", Reach::All),
            ("stores.manage", Reach::All),
            ("tasks.manage", Reach::All),
            ("tasks.admin", Reach::All),
            ("projects.manage", Reach::All),
            ("support.agent", Reach::All),
            ("support.admin", Reach::All),
        ],
        "staff" => &[
            ("users.read", Reach::All),
            ("security_events.read", Reach::All),
            ("organizations.read", Reach::All),
            ("catalog.review", Reach::All),
            ("tasks.admin", Reach::All),
            ("support.agent", Reach::All),
        ],
        // Every signed-in user, whatever their personas.
        "user" => SELF_SERVICE,
        _ => &[],
    }
}

/// The global roles that grant `permission` everywhere (whom to ask for staff work: `support.agent`).
pub fn roles_granting(permission: &str) -> Vec<&'static str> {
    ["admin", "staff"]
        .into_iter()
        .filter(|role| global_grants(role).iter().any(|(p, reach)| *p == permission && *reach == Reach::All))
        .collect()
}

/// Personas: the global roles a user may take on by themselves (a label needs an admin's approval).
pub const PERSONAS: &[&str] = &[
    "artist",
    "band_manager",
    "promoter",
    "organizer",
    "venue_manager",
    "label",
    "client",
    "freelancer",
    "creator",
    "sponsor",
    "fan",
];

/// Whether `role` is a global role: admin, staff (granted only by an admin) or a persona.
pub fn is_global_role(role: &str) -> bool {
    role == "admin" || role == "staff" || PERSONAS.contains(&role)
}

/// Roles every organization has. Permission templates add custom roles.
pub const ORG_ROLES: &[&str] = &["owner", "admin", "member", "viewer"];

/// What a built-in organization role grants within its organization; `None` for a custom role.
pub fn org_role_grants(role: &str) -> Option<&'static [&'static str]> {
    const MANAGERS: &[&str] = &[
        "organizations.read",
        "organizations.update",
        "members.read",
        "members.manage",
        "teams.manage",
        "audit.read",
        "webhooks.manage",
        "ledger.read",
        "events.manage",
        "tickets.checkin",
        "bookings.manage",
        "catalog.manage",
        "tasks.manage",
        "projects.manage",
    ];
    match role {
        "owner" | "admin" => Some(MANAGERS),
        "member" => Some(&["organizations.read", "members.read", "tickets.checkin"]),
        "viewer" => Some(&["organizations.read"]),
        _ => None,
    }
}

/// The caller's standing in one organization: its role there and what that role grants.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: crate::model::OrgId,
    pub role: Option<String>,
    pub permissions: Vec<String>,
}

/// What is being acted on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Nothing in particular (creating something new, listing across the platform).
    Platform,
    /// An object owned by this user.
    OwnedBy(crate::model::UserId),
    /// An object of an organization, with the caller's standing there.
    Organization(&'a OrgAccess),
}

/// Decides whether `principal` may do `permission` on `target`. Denies by default.
pub fn authorize(principal: &Principal, permission: &str, target: Target<'_>) -> Result<(), IdentityError> {
    if let Some(scopes) = &principal.api_key_scopes
        && !scopes.iter().any(|scope| crate::model::Scope::allows(scope, permission))
    {
        return Err(IdentityError::InsufficientScope(permission.to_owned()));
    }
    let reach = principal
        .roles
        .iter()
        .map(String::as_str)
        .chain(std::iter::once("user"))
        .flat_map(global_grants)
        .filter(|(name, _)| *name == permission)
        .map(|(_, reach)| *reach)
        .max();
    let allowed = match (reach, target) {
        (Some(Reach::All), _) => true,
        (_, Target::Organization(access)) => access.permissions.iter().any(|p| p == permission),
        (Some(Reach::Own | Reach::Organization), Target::OwnedBy(owner)) => owner == principal.user_id,
        (Some(Reach::Own | Reach::Organization), Target::Platform) => true,
        (None, _) => false,
    };
    if allowed { Ok(()) } else { Err(IdentityError::Forbidden(permission.to_owned())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserId;

    fn principal(roles: &[&str], scopes: Option<&[&str]>) -> Principal {
        Principal {
            user_id: UserId::new(),
            session_id: None,
            api_key_id: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            api_key_scopes: scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
            email_verified: true,
            client_ip: None,
        }
    }

    #[test]
    fn every_granted_permission_is_in_the_catalog() {
        let known = |permission: &str| PERMISSIONS.iter().any(|(p, _)| *p == permission);
        for role in PERSONAS.iter().chain(&["admin", "staff", "user"]) {
            for (permission, _) in global_grants(role) {
                assert!(known(permission), "{role} grants unknown {permission}");
            }
        }
        for role in ORG_ROLES {
            for permission in org_role_grants(role).unwrap() {
                assert!(known(permission), "org role {role} grants unknown {permission}");
            }
        }
    }

    #[test]
    fn own_reach_covers_only_own_objects() {
        let p = principal(&["fan"], None);
        assert!(authorize(&p, "profile.read", Target::OwnedBy(p.user_id)).is_ok());
        assert!(authorize(&p, "profile.read", Target::OwnedBy(UserId::new())).is_err());
        assert!(authorize(&p, "users.read", Target::Platform).is_err());
    }

    #[test]
    fn admin_reaches_everything_it_is_granted() {
        let p = principal(&["admin"], None);
        assert!(authorize(&p, "users.manage", Target::OwnedBy(UserId::new())).is_ok());
        assert!(authorize(&p, "no_such.permission", Target::Platform).is_err(), "deny by default");
    }

    #[test]
    fn organization_roles_reach_only_their_organization() {
        let p = principal(&["fan"], None);
        let admin_here = OrgAccess {
            org: crate::model::OrgId::new(),
            role: Some("admin".into()),
            permissions: org_role_grants("admin").unwrap().iter().map(|s| (*s).to_owned()).collect(),
        };
        let viewer_there = OrgAccess {
            org: crate::model::OrgId::new(),
            role: Some("viewer".into()),
            permissions: org_role_grants("viewer").unwrap().iter().map(|s| (*s).to_owned()).collect(),
        };
        let stranger = OrgAccess { org: crate::model::OrgId::new(), role: None, permissions: vec![] };
        assert!(authorize(&p, "members.manage", Target::Organization(&admin_here)).is_ok());
        assert!(authorize(&p, "organizations.read", Target::Organization(&viewer_there)).is_ok());
        assert!(authorize(&p, "members.manage", Target::Organization(&viewer_there)).is_err());
        assert!(authorize(&p, "organizations.read", Target::Organization(&stranger)).is_err());
        // A platform admin reaches every organization.
        assert!(authorize(&principal(&["admin"], None), "members.manage", Target::Organization(&stranger)).is_ok());
        // Org-granted permissions still pass through an API key's scopes.
        let scoped = principal(&["fan"], Some(&["organizations.read"]));
        assert!(authorize(&scoped, "members.manage", Target::Organization(&admin_here)).is_err());
    }

    #[test]
    fn api_key_scopes_restrict_the_user() {
        let p = principal(&["admin"], Some(&["profile.read"]));
        assert!(authorize(&p, "profile.read", Target::OwnedBy(p.user_id)).is_ok());
        let err = authorize(&p, "users.read", Target::Platform).unwrap_err();
        assert!(matches!(err, IdentityError::InsufficientScope(_)));
    }
}
