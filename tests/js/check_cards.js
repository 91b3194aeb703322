// Parses Adaptive Cards with the adaptivecards library (what the Agents Playground renders with),
// maximum version 1.5 (what Teams renders), and prints every validation event per card as JSON.
// Usage: node tests/js/check_cards.js cards.json   (a JSON array of cards)
'use strict';
const fs = require('fs');
const AC = require('adaptivecards/dist/adaptivecards.js');

const cards = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = cards.map((json, index) => {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(new AC.Version(1, 5));
  card.parse(json, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    events.push({ phase: e.phase, event: e.event, message: e.message, source: e.source ? e.source.getJsonTypeName() : null });
  }
  for (const e of card.validateProperties().validationEvents) {
    events.push({ phase: 'validate', event: e.event, message: e.message, source: e.source ? e.source.getJsonTypeName() : null });
  }
  return { index, events };
});
process.stdout.write(JSON.stringify(results));
