//! Freelancers: a user's profile as a freelancer (skills with proficiency, experience, time zone,
//! working hours, specialties, portfolio, vacations), its approval by staff, its measured performance,
//! and the favourites a client company keeps.

pub mod dto;
pub mod http;
pub mod repo;
pub mod service;
