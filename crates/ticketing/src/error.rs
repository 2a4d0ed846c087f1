//! Ticketing's errors and their problem codes.

use platform::ApiError;

use crate::state::TransitionError;

platform::codes! {
    /// Ticketing's problem codes: events, orders, tickets, after-sale.
    pub enum TicketingCode in "ticketing" {
        NotOnSale = (CONFLICT, "not_on_sale", "tickets are sold only while the event is published and the tier's sales window is open"),
        SoldOut = (CONFLICT, "sold_out", "the tier has fewer tickets left than asked"),
        OrderExpired = (CONFLICT, "order_expired", "the order's hold ended; its tickets are back on sale"),
        OrderNotPending = (CONFLICT, "order_not_pending", "the order is paid or cancelled"),
        EventCompleted = (CONFLICT, "event_completed", "a completed event cannot be changed"),
        EventNotOver = (CONFLICT, "event_not_over", "an event completes once it has ended"),
        EventHasTickets = (CONFLICT, "event_has_tickets", "an event with sold or reserved tickets cannot be deleted; cancel it"),
        EventSettled = (CONFLICT, "event_settled", "the event is completed and its money settled"),
        EventNotOn = (CONFLICT, "event_not_on", "tickets of an event that is not published or postponed cannot change hands"),
        SplitsFrozen = (CONFLICT, "splits_frozen", "revenue splits freeze at the first sale"),
        TicketNotValid = (CONFLICT, "ticket_not_valid", "a used or refunded ticket cannot change hands"),
        TicketBusy = (CONFLICT, "ticket_busy", "the ticket is offered to someone or listed for resale already"),
        NotTransferable = (CONFLICT, "not_transferable", "the tier's tickets cannot be transferred"),
        NotResaleable = (CONFLICT, "not_resaleable", "the tier's tickets cannot be resold"),
        NotRefundable = (CONFLICT, "not_refundable", "the tier's tickets are not refundable"),
        TransferDecided = (CONFLICT, "transfer_decided", "the transfer was accepted, declined or cancelled already"),
        ListingClosed = (CONFLICT, "listing_closed", "the resale listing is sold or withdrawn"),
        OwnListing = (CONFLICT, "own_listing", "a seller cannot buy their own listing"),
        AttributionPaid = (CONFLICT, "attribution_paid", "the attribution was paid at settlement"),
        WalletExists = (CONFLICT, "wallet_exists", "the wallet address is registered already"),
        BuyerLimit = (CONFLICT, "buyer_limit", "the tier allows so many tickets per buyer, and the recipient has them already"),
        PassRequired = (FORBIDDEN, "pass_required", "the sale is behind a waiting room: join it, and order with the pass it gives when your turn comes"),
        PassInvalid = (FORBIDDEN, "pass_invalid", "the pass was not issued by this event's waiting room to this account"),
        PassExpired = (FORBIDDEN, "pass_expired", "the pass's purchase window has ended"),
        PassUsed = (CONFLICT, "pass_used", "the pass has bought its order already"),
        RoomClosed = (CONFLICT, "room_closed", "the waiting room is closed: the sale sold out or ended"),
        RoomOpened = (CONFLICT, "room_opened", "the waiting room has opened: its opening time and its places can no longer change"),
        AddressLimit = (TOO_MANY_REQUESTS, "address_limit", "this client address holds as many places in the waiting room as it allows"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TicketingError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("the tier {tier} has {left} tickets left")]
    SoldOut { tier: String, left: i64 },
    #[error("this order expired; its tickets are back on sale")]
    OrderExpired,
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<TicketingError> for ApiError {
    fn from(err: TicketingError) -> Self {
        let detail = err.to_string();
        match err {
            TicketingError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            TicketingError::Transition(err) => err.into(),
            TicketingError::SoldOut { .. } => ApiError::new(TicketingCode::SoldOut, detail),
            TicketingError::OrderExpired => ApiError::new(TicketingCode::OrderExpired, detail),
            TicketingError::Db(err) => err.into(),
        }
    }
}
