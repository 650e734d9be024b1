-- AlterTable
ALTER TABLE "HistoryAuthor" ADD COLUMN     "source" TEXT;

-- CreateTable
CREATE TABLE "GitRemote" (
    "projectId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "token" TEXT,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GitRemote_pkey" PRIMARY KEY ("projectId")
);

-- AddForeignKey
ALTER TABLE "GitRemote" ADD CONSTRAINT "GitRemote_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
