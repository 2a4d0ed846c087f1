//! Booking's ids and parsed values.

platform::id_type!(
    /// An artist (a solo artist or a band).
    ArtistId
);
platform::id_type!(
    /// A venue.
    VenueId
);
platform::id_type!(
    /// A promoter (or organizer).
    PromoterId
);
platform::id_type!(
    /// A booking.
    BookingId
);

/// The great-circle distance in kilometres between two points (haversine, mean Earth radius).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.0 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn berlin_to_hamburg_is_about_255_km() {
        let d = super::distance_km(52.52, 13.405, 53.551, 9.993);
        assert!((d - 255.0).abs() < 3.0, "{d}");
        assert!(super::distance_km(10.0, 10.0, 10.0, 10.0).abs() < 1e-9);
    }
}
