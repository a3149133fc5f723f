"""Campaign reach: which channel, poster or QR place brought a family, counted
without cookies or identifiers; share images and signed result links."""
