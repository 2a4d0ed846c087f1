//! The catalog's ids and the kinds its rows hold.

platform::id_type!(
    /// A release (a product: single, EP, album, ...).
    ReleaseId
);
platform::id_type!(
    /// A track: one recording, with one ISRC, on one or more releases.
    TrackId
);
platform::id_type!(
    /// An artist or contributor a label credits.
    PartyId
);
platform::id_type!(
    /// A store releases are delivered to.
    StoreId
);
platform::id_type!(
    /// One release's delivery to one store.
    DistributionId
);

platform::text_enum! {
    /// What kind of product a release is.
    pub enum ReleaseType {
        Single = "single", Ep = "ep", Album = "album", Compilation = "compilation", Remix = "remix", Live = "live",
    }
}

impl ReleaseType {
    /// DDEX's ReleaseType (ERN AVS 6 knows Album, EP and Single; compilations and live albums are
    /// albums, a remix release a single).
    pub fn ddex(self) -> &'static str {
        match self {
            Self::Single => "Single",
            Self::Ep => "EP",
            Self::Album => "Album",
            Self::Compilation => "Album",
            Self::Remix => "Single",
            Self::Live => "Album",
        }
    }
}

platform::text_enum! {
    /// Where a release is available: worldwide except the listed territories, or only in them.
    pub enum TerritoryMode { Worldwide = "worldwide", Only = "only" }
}

platform::text_enum! {
    /// The store's price tier for a release.
    pub enum PriceTier { Budget = "budget", Mid = "mid", Front = "front", Premium = "premium" }
}

platform::text_enum! {
    /// What a party is credited as.
    pub enum CreditRole {
        MainArtist = "main_artist", FeaturedArtist = "featured_artist", Remixer = "remixer", Producer = "producer",
        Composer = "composer", Lyricist = "lyricist", Arranger = "arranger", Mixer = "mixer",
        MasteringEngineer = "mastering_engineer", RecordingEngineer = "recording_engineer", Performer = "performer",
        Conductor = "conductor", Orchestra = "orchestra",
    }
}

impl CreditRole {
    /// Whether the role makes a display artist (shown with the title) rather than a contributor.
    pub fn is_display_artist(self) -> bool {
        matches!(self, Self::MainArtist | Self::FeaturedArtist)
    }

    /// DDEX's value: a `DisplayArtistRole` for main and featured artists, a `ContributorRole` for the
    /// others (ERN 4.3, AVS 6).
    pub fn ddex(self) -> &'static str {
        match self {
            Self::MainArtist => "MainArtist",
            Self::FeaturedArtist => "FeaturedArtist",
            Self::Remixer => "Remixer",
            Self::Producer => "StudioProducer",
            Self::Composer => "Composer",
            Self::Lyricist => "Lyricist",
            Self::Arranger => "Arranger",
            Self::Mixer => "Mixer",
            Self::MasteringEngineer => "MasteringEngineer",
            Self::RecordingEngineer => "RecordingEngineer",
            Self::Performer => "Performer",
            Self::Conductor => "Conductor",
            Self::Orchestra => "Orchestra",
        }
    }
}

/// Whether `code` is an ISO 3166-1 alpha-2 code in form (two capital letters), or `WW`-free.
pub fn territory_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|c| c.is_ascii_uppercase())
}
