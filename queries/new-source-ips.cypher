// Source IPs seen for the first time per user: new locations, a stolen password or AK/SK.
//
// Parameters
//   $since  report (user, IP) pairs first seen at or after this moment (ISO 8601 or DateTime)
//
// Neo4j Browser:  :param since => '2024-05-01T12:00:00Z'
//
// knownUser is true when the user was active before $since (from any IP): a new IP for an
// established account is the stronger signal; a brand-new user has only new IPs.
MATCH (a:Action)-[:FROM_IP]->(ip:IpAddress)
WHERE a.time >= datetime($since)
MATCH (a)-[:PERFORMED_BY]->(u:User)
WITH u, ip, min(a.time) AS firstSeen, count(a) AS actions
WHERE NOT EXISTS {
  MATCH (u)<-[:PERFORMED_BY]-(earlier:Action)-[:FROM_IP]->(ip)
  WHERE earlier.time < datetime($since)
}
RETURN u.name AS user,
       u.id AS userId,
       ip.address AS sourceIp,
       firstSeen,
       actions,
       EXISTS {
         MATCH (u)<-[:PERFORMED_BY]-(before:Action)
         WHERE before.time < datetime($since)
       } AS knownUser
ORDER BY firstSeen DESC, user, sourceIp
