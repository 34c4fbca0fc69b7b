"""Referrals from outside the platform: NHS Booking and Referral Standard (BaRS) messages at `$process-message`."""
