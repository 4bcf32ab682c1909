// Failed console logins grouped by the user they targeted.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// Same definition of a failed login as failed-logins-by-ip.cypher. Failures from several
// IPs against one account, or a success right after many failures, deserve a look.
MATCH (a:Action)
WHERE datetime($from) <= a.time < datetime($to)
  AND (a.name = 'loginFailed' OR (a.name = 'login' AND a.rating IN ['warning', 'incident']))
MATCH (a)-[:PERFORMED_BY]->(u:User)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
WITH u, count(a) AS failures, collect(DISTINCT ip.address) AS sourceIps,
     min(a.time) AS firstAttempt, max(a.time) AS lastAttempt
RETURN u.name AS user, u.id AS userId, failures, sourceIps, firstAttempt, lastAttempt
ORDER BY failures DESC, user
