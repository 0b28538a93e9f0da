-- Campaign totals read pledges through this index alone.
CREATE INDEX pledges_totals ON pledges (campaign_id, status, user_id, amount, received_amount, donor_name);
