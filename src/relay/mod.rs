//! Centrifugo client protocol (JSON encoding): the wire types shared by the relay server and
//! the SDK's relay driver.
